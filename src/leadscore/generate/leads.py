"""Draw who the demo leads are: where and when they arrived, their company and title, their
device and channel, and which optional fields they left blank.

Every column is drawn vectorised from the vocabulary and geography tables, independently of the
lead's stage (:mod:`~leadscore.generate.funnel` draws the stage from these columns as written,
and :mod:`~leadscore.generate.answers` the BANT answers from the stage). Small companies and
students use free mail more; bots fill in little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import phonenumbers

from leadscore.config import GenerateConfig
from leadscore.data.timezones import from_local
from leadscore.generate import drift
from leadscore.generate import vocabulary as V
from leadscore.generate.geography import cities
from leadscore.generate.useragents import user_agents

# Leads arrive on weekdays far more than at weekends, and in office hours (local time).
WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.0, 0.95, 0.8, 0.3, 0.25])
HOUR_WEIGHT = np.array(
    [
        0.2,
        0.1,
        0.1,
        0.1,
        0.1,
        0.2,
        0.4,
        0.8,
        1.5,
        2.2,
        2.6,
        2.5,
        1.9,
        2.2,
        2.5,
        2.3,
        1.9,
        1.5,
        1.1,
        0.9,
        0.8,
        0.7,
        0.5,
        0.3,
    ]
)
OPTIONAL: tuple[str, ...] = (  # the form fields a lead may leave empty (BANT: answers.py)
    "phone",
    "website",
    "job_title",
    "company_size",
    "industry",
    "region",
    "city",
)
FILL = 0.8  # each optional field is given with this chance (bots: BOT_FILL)
BOT_FILL = 0.1
UNTOUCHED = 0.04  # of the given industry drop-downs, left on the placeholder
# relative weight of each source in V.SOURCES' order
SOURCE_WEIGHT: tuple[float, ...] = (24.0, 18.0, 12.0, 10.0, 7.0, 10.0, 6.0, 5.0)


def draw_leads(rng: np.random.Generator, cfg: GenerateConfig) -> pd.DataFrame:
    """The leads table without answers or outcome, sorted by ``created_at`` (ids in arrival
    order)."""
    n = cfg.n_leads
    place = cities().iloc[rng.choice(len(cities()), size=n, p=cities()["share"])]
    agents = user_agents()
    agent = agents.iloc[rng.choice(len(agents), size=n, p=agents["share"])]
    bot = (agent["kind"] == "bot").to_numpy()
    title = _pick(rng, [t[0] for t in V.JOB_TITLES], [t[3] for t in V.JOB_TITLES], n)
    size_band = rng.choice(len(V.COMPANY_SIZES), size=n, p=_share(c[2] for c in V.COMPANY_SIZES))
    raw_size = np.empty(n, dtype=object)
    for band, (_, written, _) in enumerate(V.COMPANY_SIZES):
        rows = size_band == band
        raw_size[rows] = _pick(rng, written, None, int(rows.sum()))
    first = _pick(rng, V.FIRST_NAMES, None, n)
    last = _pick(rng, V.LAST_NAMES, None, n)
    company = (
        _pick(rng, V.COMPANY_WORDS[0], None, n) + " " + _pick(rng, V.COMPANY_WORDS[1], None, n)
    )
    slug = pd.Series(company).str.lower().str.replace(" ", "", regex=False).to_numpy()
    created_at = _created_at(rng, place["timezone"], cfg)
    student = np.isin(title, [t[0] for t in V.JOB_TITLES if t[1] == "intern_student"])
    leads = pd.DataFrame(
        {
            "created_at": created_at.array,
            "email": _emails(rng, first, last, slug, size_band, student),
            "phone": _phones(rng, place["country"].to_numpy()),
            "first_name": first,
            "last_name": last,
            "company": company,
            "website": "https://www." + slug + ".com",
            "job_title": title,
            "company_size": raw_size,
            "industry": _pick(rng, [i[0] for i in V.INDUSTRIES], [i[1] for i in V.INDUSTRIES], n),
            "country": place["country"].to_numpy(),
            "region": place["region"].to_numpy(),
            "city": place["city"].to_numpy(),
            "user_agent": agent["user_agent"].to_numpy(),
            "source": _sources(rng, created_at, cfg),
            "landing_page": V.SITE + _pick(rng, V.LANDING_PAGES, None, n),
        }
    )
    leads = _leave_unfilled(rng, leads, bot)
    order = np.argsort(leads["created_at"].array, kind="stable")
    leads = leads.iloc[order].reset_index(drop=True)
    leads.insert(0, "lead_id", [f"L{i:07d}" for i in range(1, n + 1)])
    return leads


def _leave_unfilled(rng: np.random.Generator, leads: pd.DataFrame, bot: np.ndarray) -> pd.DataFrame:
    """Blank the optional fields a lead did not give, leave some industry drop-downs untouched,
    and take most bots' e-mail away."""
    n = len(leads)
    fill = np.where(bot, BOT_FILL, FILL)
    for column in OPTIONAL:
        leads[column] = leads[column].where(rng.random(n) < fill)
    untouched = leads["industry"].notna() & (rng.random(n) < UNTOUCHED)
    leads["industry"] = leads["industry"].mask(untouched, V.PLACEHOLDER)
    leads["email"] = leads["email"].where(~bot | (rng.random(n) < 0.3))
    leads["company"] = leads["company"].where(rng.random(n) < fill + 0.1)
    return leads


def _pick(rng: np.random.Generator, values, weights, n: int) -> np.ndarray:
    p = None if weights is None else _share(weights)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def _share(weights) -> np.ndarray:
    w = np.fromiter(weights, dtype=float)
    return w / w.sum()


def _sources(rng: np.random.Generator, created_at: pd.Series, cfg: GenerateConfig) -> np.ndarray:
    """Each lead's channel (Gumbel-max, so a drifted channel mix draws the same numbers)."""
    logits = np.log(SOURCE_WEIGHT) + drift.source_log_factors(created_at, cfg.drift)
    gumbel = rng.gumbel(size=logits.shape)
    return np.asarray(V.SOURCES, dtype=object)[np.argmax(logits + gumbel, axis=1)]


def _created_at(rng: np.random.Generator, zones: pd.Series, cfg: GenerateConfig) -> pd.Series:
    """Local arrival times with weekday and hour-of-day seasonality, returned in UTC."""
    days = pd.date_range(cfg.start, cfg.end, freq="D")
    day_p = _share(WEEKDAY_WEIGHT[days.day_of_week])
    day = days[rng.choice(len(days), size=len(zones), p=day_p)]
    hour = rng.choice(24, size=len(zones), p=_share(HOUR_WEIGHT))
    seconds = hour * 3600 + rng.integers(0, 3600, size=len(zones))
    local = pd.Series(day + pd.to_timedelta(seconds, unit="s")).dt.as_unit("us")
    return from_local(local, pd.Series(zones.to_numpy()))


def _emails(rng, first, last, slug, size_band, student) -> np.ndarray:
    """Small companies and students use free mail more; about 1 % are mistyped."""
    n = len(first)
    free = rng.random(n) < np.where(student, 0.8, np.clip(0.5 - 0.09 * size_band, 0.05, 1))
    domain = np.where(free, _pick(rng, V.FREE_MAIL, None, n), slug + ".com")
    name = pd.Series(first).str.lower() + "." + pd.Series(last).str.lower()
    local = name.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    email = (local + "@" + domain).to_numpy()
    typo = rng.random(n) < 0.01
    return np.where(typo, local.to_numpy() + " at " + domain, email)


def _phones(rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
    """Valid mobile numbers of the lead's country, with some from abroad and some garbage."""
    codes = np.unique(countries)
    pool = np.array([np.resize(np.array(_number_pool(c), dtype=object), 50) for c in codes])
    out = pool[np.searchsorted(codes, countries), rng.integers(0, 50, len(countries))]
    abroad = rng.random(len(out)) < 0.05
    out[abroad] = pool[rng.integers(0, len(codes), abroad.sum()), 0]
    garbage = rng.random(len(out)) < 0.04
    out[garbage] = "12345"
    return out


def _number_pool(country: str, size: int = 50) -> list[str]:
    """Valid E.164 numbers around the country's example mobile number."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        raise ValueError(f"phonenumbers has no example mobile number for {country}")
    base = str(example.national_number)
    pool = []
    for k in range(1000):
        number = phonenumbers.parse(f"+{example.country_code}{base[:-3]}{k:03d}")
        if phonenumbers.is_valid_number(number):
            pool.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        if len(pool) == size:
            break
    return pool
