"""The documented generative process behind the demo data: who converts, and with what probability.

Conversion is drawn from :func:`conversion_probability`, a logistic function of what is observable
at the scoring moment T (the lead's form fill, location, device, local creation time, channel, and
its events with ``ts <= T``). Hidden traits (the lead's intent) shape the form answers and the
event stream but never enter the probability directly, so this probability is the best any model
can do: its ROC-AUC and log loss on the default snapshot are the ceiling reported as ``bayes_*``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from leadscore.data.timezones import to_local
from leadscore.generate.geography import cities
from leadscore.generate.useragents import user_agents
from leadscore.generate.vocabulary import COMPANY_SIZES, FREE_MAIL, JOB_TITLES

INTERCEPT = -3.75
SENIORITY = {
    "c_level": 0.7,
    "vp": 0.6,
    "director": 0.5,
    "manager": 0.25,
    "individual": 0.0,
    "intern_student": -1.5,
}
SIZE = {
    "1-10": -0.5,
    "11-50": -0.1,
    "51-200": 0.3,
    "201-1000": 0.45,
    "1001-5000": 0.4,
    "5000+": 0.2,
}
INDUSTRY = {
    "Software": 0.4,
    "Financial Services": 0.3,
    "E-commerce": 0.25,
    "Healthcare": 0.1,
    "Education": -0.3,
    "Government": -0.3,
    "Non-profit": -0.2,
}
BUDGET = {"<10k": -0.4, "10k-50k": 0.1, "50k-250k": 0.4, "250k+": 0.5}
AUTHORITY = {"Decision maker": 0.4, "Influencer": 0.15, "End user": -0.1, "Not involved": -0.4}
NEED = {"High": 0.45, "Medium": 0.1, "Low": -0.4}
TIMELINE = {"This quarter": 0.6, "Next quarter": 0.3, "This year": 0.0, "No plans": -0.7}
SOURCE = {
    "paid_search": 0.1,
    "social": -0.3,
    "email": 0.1,
    "referral": 0.5,
    "direct": 0.2,
    "event": 0.3,
    "partner": 0.4,
}
DEVICE = {"mobile": -0.15, "tablet": -0.1, "bot": -4.0}
COUNTRY = {"US": 0.15, "GB": 0.15, "DE": 0.15, "CA": 0.1, "IN": -0.2, "BR": -0.1}
MISSING = {"seniority": -0.2, "size": -0.1, "email": -0.3}
FREE_MAIL_LOGIT = -0.45
PHONE_GIVEN = 0.2
BUSINESS_HOURS = 0.25  # created on a weekday between 09:00 and 18:00 local time
WEEKEND = -0.15
# Engagement before T: log1p(count) for volume signals, "any" for one-off intent signals.
ENGAGEMENT_LOG = {
    "page_view": 0.35,
    "pricing_view": 0.7,
    "email_click": 0.4,
    "email_open": 0.15,
    "content_download": 0.3,
}
ENGAGEMENT_ANY = {
    "demo_request": 1.3,
    "webinar_attend": 0.5,
    "chat_message": 0.4,
    "unsubscribe": -1.2,
    "email_bounce": -0.8,
}


def conversion_probability(
    leads: pd.DataFrame, events: pd.DataFrame, as_of: pd.Series
) -> np.ndarray:
    """P(convert within the horizon after T | what is observable at T), one value per lead.

    ``leads`` must have unique ``lead_id``; ``as_of`` is aligned with ``leads``.
    """
    logit = np.full(len(leads), INTERCEPT)
    seniority = leads["job_title"].map({t: s for t, s, _, _ in JOB_TITLES})
    logit += _points(seniority, SENIORITY, MISSING["seniority"])
    band = leads["company_size"].map({raw: b for b, raws, _ in COMPANY_SIZES for raw in raws})
    logit += _points(band, SIZE, MISSING["size"])
    for column, table in (
        ("industry", INDUSTRY),
        ("budget", BUDGET),
        ("authority", AUTHORITY),
        ("need", NEED),
        ("timeline", TIMELINE),
        ("source", SOURCE),
        ("country", COUNTRY),
    ):
        logit += _points(leads[column], table, 0.0)
    email = leads["email"].astype("object")
    domain = email.str.rsplit("@", n=1).str[-1].where(email.str.contains("@", na=False))
    logit += np.where(email.isna(), MISSING["email"], 0.0)
    logit += np.where(domain.isin(FREE_MAIL), FREE_MAIL_LOGIT, 0.0)
    logit += np.where(leads["phone"].notna(), PHONE_GIVEN, 0.0)
    kind = leads["user_agent"].map(user_agents().set_index("user_agent")["kind"])
    logit += _points(kind, DEVICE, 0.0)
    local = to_local(leads["created_at"], observed_zone(leads))
    weekend = local.dt.day_of_week.to_numpy() >= 5
    office = ~weekend & (local.dt.hour.to_numpy() >= 9) & (local.dt.hour.to_numpy() < 18)
    logit += np.where(office, BUSINESS_HOURS, 0.0) + np.where(weekend, WEEKEND, 0.0)
    counts = _counts_before(leads, events, as_of)
    for event_type, weight in ENGAGEMENT_LOG.items():
        logit += weight * np.log1p(counts[event_type])
    for event_type, weight in ENGAGEMENT_ANY.items():
        logit += weight * (counts[event_type] > 0)
    return expit(logit)


def observed_zone(leads: pd.DataFrame) -> pd.Series:
    """The lead's time zone as far as its form tells: by city, else region, else the country's
    most common zone (the local clock a careful analyst would assume)."""
    table = cities()
    by_region = {f"{c}|{r}": z for c, r, z in table[["country", "region", "timezone"]].to_numpy()}
    by_country = (
        table.sort_values("share", ascending=False, kind="stable")
        .drop_duplicates("country")
        .set_index("country")["timezone"]
    )
    zone = leads["city"].map(table.set_index("city")["timezone"]).astype("object")
    zone = zone.fillna((leads["country"] + "|" + leads["region"]).map(by_region).astype("object"))
    return zone.fillna(leads["country"].map(by_country).astype("object"))


def _points(values: pd.Series, table: dict[str, float], missing: float) -> np.ndarray:
    """Points per known value, 0 for other values, ``missing`` where nothing was given."""
    points = values.astype("object").map(table).astype("float64").fillna(0.0).to_numpy()
    return np.where(values.isna().to_numpy(), missing, points)


def _counts_before(leads: pd.DataFrame, events: pd.DataFrame, as_of: pd.Series) -> pd.DataFrame:
    """Events per lead and type with ``ts <= T`` (columns for every type the process uses)."""
    limit = events["lead_id"].map(pd.Series(as_of.array, index=leads["lead_id"].to_numpy()))
    seen = events[events["ts"] <= limit]
    counts = pd.crosstab(seen["lead_id"], seen["event_type"])
    types = [*ENGAGEMENT_LOG, *ENGAGEMENT_ANY]
    return counts.reindex(index=leads["lead_id"], columns=types, fill_value=0).reset_index(
        drop=True
    )
