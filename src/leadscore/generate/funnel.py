"""Who is in the market: each lead's hidden stage and the effects, with their sizes, that set it.

Every lead is one of three stages, drawn once when it arrives:

- ``passive``: signed up for something and moves on; a short burst of activity that fades within
  days. Never buys.
- ``researcher``: students, consultants, competitors, job seekers, analysts at companies that
  will not buy: they read, download, attend webinars, look at pricing and sometimes book a demo,
  for weeks. Never buys.
- ``buyer``: in the market; engages until it buys (:mod:`~leadscore.generate.closing` says when).

Only buyers convert. The stage is a multinomial logit (passive the reference) of the lead's row
*as written*: a field left blank (or a drop-down left on its placeholder) is a value of its own,
so nothing hidden sets the stage. Each table below gives a value's log-odds of
``(buyer, researcher)`` against passive; values not listed add nothing.

The ideal customer profile (ICP) is where the buyer column is high: companies of 51-5,000
people (tiers, not a slope), software, finance and e-commerce, managers and up, a company
address. Outside it the researcher column is high instead (students, consultants, free-mail
addresses, tiny companies). That is what makes ICP match *gate* the effect of intent: a
researcher behaves much like a buyer, so a demo request outside the ICP mostly comes from a
researcher and rarely closes (the sizes are on the docs' demo page, computed from these tables).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import log_softmax

from leadscore.config import DriftConfig
from leadscore.data.timezones import to_local
from leadscore.generate import drift
from leadscore.generate.geography import observed_zone
from leadscore.generate.useragents import user_agents
from leadscore.generate.vocabulary import COMPANY_SIZES, FREE_MAIL, JOB_TITLES, PLACEHOLDER

STAGES: tuple[str, ...] = ("passive", "researcher", "buyer")
PASSIVE, RESEARCHER, BUYER = range(3)
NOT_GIVEN = "__not_given__"  # a blank field or a placeholder, in the tables below

Effect = tuple[float, float]  # log-odds of (buyer, researcher) against passive

INTERCEPT: Effect = (-1.9, -2.2)
# The ideal customer profile: a company of 51-5,000 people in a target industry. "match" needs
# both, "out" is a lead that wrote a size or an industry outside it, "unknown" the rest.
ICP_SIZES: frozenset[str] = frozenset({"51-200", "201-1000", "1001-5000"})
ICP_INDUSTRIES: frozenset[str] = frozenset(
    {"Software", "Financial Services", "E-commerce", "Healthcare"}
)
ICP: dict[str, Effect] = {"match": (0.8, -1.0), "unknown": (0.3, 0.0), "out": (0.0, 1.5)}
SIZE: dict[str, Effect] = {  # tiers on top of the ICP: tiny companies rarely buy
    "1-10": (-1.2, 0.5),
    "11-50": (-0.4, 0.2),
    "51-200": (0.0, 0.0),
    "201-1000": (0.2, 0.0),
    "1001-5000": (0.2, 0.0),
    "5000+": (-0.2, 0.3),
}
SENIORITY: dict[str, Effect] = {
    "c_level": (0.6, -0.8),
    "vp": (0.6, -0.5),
    "director": (0.5, -0.3),
    "manager": (0.3, 0.0),
    "individual": (0.0, 0.3),
    "intern_student": (-2.5, 1.8),
    NOT_GIVEN: (-0.3, 0.2),
}
COUNTRY: dict[str, Effect] = {
    "US": (0.2, 0.0),
    "GB": (0.2, 0.0),
    "DE": (0.2, 0.0),
    "IN": (-0.3, 0.4),
}
SOURCE: dict[str, Effect] = {  # referrals and partners bring buyers, social brings readers
    "organic_search": (0.0, 0.4),
    "social": (-0.4, 0.5),
    "referral": (0.6, -0.3),
    "direct": (0.2, 0.0),
    "event": (0.3, 0.2),
    "partner": (0.5, -0.3),
}
LANDING: dict[str, Effect] = {  # by the first segment of the landing page's path
    "pricing": (0.3, 0.0),
    "demo": (0.5, 0.0),
    "blog": (0.0, 0.4),
}
FREE_MAIL_ADDRESS: Effect = (-0.7, 0.7)
OFFICE_HOURS: Effect = (0.2, 0.0)  # created on a weekday, 09:00-18:00 on the lead's clock
# Channel x season on the buyers' base rate (log-odds), by month of arrival (UTC): summer and
# December are slow for everyone, trade-show leads close in the conference seasons and not
# outside them, paid search rides the year-end budget flush, partners push at quarter end.
SEASON: dict[str | None, dict[int, float]] = {
    None: {7: -0.2, 8: -0.2, 12: -0.3},  # every channel
    "event": {m: (0.5 if m in (3, 4, 5, 9, 10, 11) else -0.4) for m in range(1, 13)},
    "paid_search": {11: 0.4, 12: 0.4},
    "partner": {3: 0.3, 6: 0.3, 9: 0.3, 12: 0.3},
}


def stage_log_prior(leads: pd.DataFrame, *, drift_cfg: DriftConfig) -> np.ndarray:
    """log P(stage | the lead's row), shape (leads, 3) in :data:`STAGES` order; bots are passive.

    ``leads`` is the table as written (raw values, placeholders as the form submitted them).
    """
    effects = np.tile(np.asarray(INTERCEPT), (len(leads), 1))
    seniority = leads["job_title"].map({t: s for t, s, _, _ in JOB_TITLES})
    size = leads["company_size"].map({raw: b for b, raws, _ in COMPANY_SIZES for raw in raws})
    section = leads["landing_page"].str.extract(r"^[a-z]+://[^/]+/([^/?#]*)", expand=False)
    for values, table in (
        (icp_match(size, given(leads["industry"])), ICP),
        (size, SIZE),
        (seniority, SENIORITY),
        (leads["country"], COUNTRY),
        (leads["source"], SOURCE),
        (section, LANDING),
    ):
        effects += _effects(values, table)
    free = leads["email"].str.endswith(tuple(f"@{domain}" for domain in FREE_MAIL))
    effects += np.outer(free.fillna(False).to_numpy(bool), FREE_MAIL_ADDRESS)
    effects += np.outer(office_hours(leads), OFFICE_HOURS)
    effects[:, 0] += season(leads) + drift.base_rate_shift(leads, drift_cfg)
    logits = np.column_stack([np.zeros(len(leads)), effects[:, 1], effects[:, 0]])
    prior = log_softmax(logits, axis=1)
    bot = device(leads) == "bot"
    prior[bot] = (0.0, -np.inf, -np.inf)  # crawlers and scripts are never in the market
    return prior


def icp_match(size: pd.Series, industry: pd.Series) -> pd.Series:
    """ "match", "out" or "unknown" per lead (:data:`ICP`)."""
    size_in, industry_in = size.isin(ICP_SIZES), industry.isin(ICP_INDUSTRIES)
    out = (size.notna() & ~size_in) | ((industry != NOT_GIVEN) & ~industry_in)
    return pd.Series(np.where(size_in & industry_in, "match", np.where(out, "out", "unknown")))


def given(values: pd.Series) -> pd.Series:
    """Raw answers with blanks and the form's placeholder as :data:`NOT_GIVEN`."""
    return values.astype("object").where(values.notna() & (values != PLACEHOLDER), NOT_GIVEN)


def season(leads: pd.DataFrame) -> np.ndarray:
    """The channel x season term of the buyers' log-odds (:data:`SEASON`)."""
    month = leads["created_at"].dt.month.to_numpy()
    out = np.zeros(len(leads))
    for channel, by_month in SEASON.items():
        rows = np.ones(len(leads), bool) if channel is None else leads["source"].eq(channel)
        out += np.where(rows, pd.Series(month).map(by_month).fillna(0.0).to_numpy(), 0.0)
    return out


def device(leads: pd.DataFrame) -> pd.Series:
    return leads["user_agent"].map(user_agents().set_index("user_agent")["kind"])


def office_hours(leads: pd.DataFrame) -> np.ndarray:
    """Whether each lead arrived on a weekday, 09:00-18:00 on the clock its form implies."""
    local = to_local(leads["created_at"], observed_zone(leads))
    hour, weekday = local.dt.hour.to_numpy(), local.dt.day_of_week.to_numpy()
    return (weekday < 5) & (hour >= 9) & (hour < 18)


def _effects(values: pd.Series, table: dict[str, Effect]) -> np.ndarray:
    """(leads, 2) effects per value; a blank is :data:`NOT_GIVEN`, other values add nothing."""
    keys = values.astype("object").where(values.notna(), NOT_GIVEN)
    return np.column_stack([_lookup(keys, {k: v[i] for k, v in table.items()}) for i in range(2)])


def _lookup(keys: pd.Series, table: dict[str, float]) -> np.ndarray:
    """``table[key]`` per key, 0 for keys it does not list."""
    position = pd.Index(list(table)).get_indexer(keys)
    return np.append(np.fromiter(table.values(), float, len(table)), 0.0)[position]


def draw_stage(u: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """Each lead's stage from its prior and one uniform (the same draw whatever the prior)."""
    cumulative = np.cumsum(np.exp(log_prior), axis=1)
    return np.minimum((u[:, None] > cumulative).sum(axis=1), len(STAGES) - 1)
