"""Draw the demo leads table: who the leads are, where and when they arrived, what they filled in.

Every column is drawn vectorised from the vocabulary and geography tables. A hidden ``intent`` per
lead makes the form answers and channels hang together the way they do in a real funnel (keen
leads fill in more, answer "this quarter" more often); it is returned to drive the event stream but
never written to the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import phonenumbers

from leadscore.config import GenerateConfig
from leadscore.data.timezones import from_local
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
PLACEHOLDER = "Select"  # what an untouched drop-down submits
OPTIONAL: tuple[str, ...] = (  # the form fields a lead may leave empty
    "phone",
    "website",
    "job_title",
    "company_size",
    "industry",
    "budget",
    "authority",
    "need",
    "timeline",
    "region",
    "city",
)


def draw_leads(rng: np.random.Generator, cfg: GenerateConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """The leads table sorted by ``created_at`` (ids in arrival order) and each lead's intent."""
    n = cfg.n_leads
    intent = rng.normal(size=n)
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
    # Keen leads and bigger companies fill in more of the form.
    fill = np.clip(0.78 + 0.08 * intent + 0.03 * (size_band - 2), 0.3, 0.98)
    fill = np.where(bot, 0.1, fill)
    leads = pd.DataFrame(
        {
            "created_at": _created_at(rng, place["timezone"], cfg).array,
            "email": _emails(rng, first, last, slug, size_band, n),
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
            "source": _sources(rng, intent),
            "landing_page": V.SITE + _pick(rng, V.LANDING_PAGES, None, n),
            "budget": _answer(rng, V.BUDGETS, 0.35 * intent + 0.4 * (size_band - 2.5)),
            "authority": _answer(rng, V.AUTHORITIES, _seniority_rank(title)),
            "need": _answer(rng, V.NEEDS, -0.8 * intent),
            "timeline": _answer(rng, V.TIMELINES, -0.9 * intent),
        }
    )
    leads = _leave_unfilled(rng, leads, fill, bot)
    order = np.argsort(leads["created_at"].array, kind="stable")
    leads = leads.iloc[order].reset_index(drop=True)
    leads.insert(0, "lead_id", [f"L{i:07d}" for i in range(1, n + 1)])
    return leads, intent[order]


def _leave_unfilled(
    rng: np.random.Generator, leads: pd.DataFrame, fill: np.ndarray, bot: np.ndarray
) -> pd.DataFrame:
    """Blank the optional answers a lead did not give (keen leads fill in more), leave some
    drop-downs untouched, and take most bots' e-mail away."""
    n = len(leads)
    for column in OPTIONAL:
        leads[column] = leads[column].where(rng.random(n) < fill)
    for column in ("industry", "budget", "authority", "need", "timeline"):
        untouched = leads[column].notna() & (rng.random(n) < 0.04)
        leads[column] = leads[column].mask(untouched, PLACEHOLDER)
    leads["email"] = leads["email"].where(~bot | (rng.random(n) < 0.3))
    leads["company"] = leads["company"].where(rng.random(n) < fill + 0.1)
    return leads


def _pick(rng: np.random.Generator, values, weights, n: int) -> np.ndarray:
    p = None if weights is None else _share(weights)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def _share(weights) -> np.ndarray:
    w = np.fromiter(weights, dtype=float)
    return w / w.sum()


def _answer(rng: np.random.Generator, options: tuple[str, ...], shift: np.ndarray) -> np.ndarray:
    """An ordered answer: a latent score shifted per lead, cut into the options' order."""
    latent = shift + rng.logistic(size=len(shift))
    cuts = np.linspace(-1.5, 1.5, len(options) - 1)
    return np.asarray(options, dtype=object)[np.searchsorted(cuts, latent)]


def _seniority_rank(title: np.ndarray) -> np.ndarray:
    """Senior titles answer "decision maker" more often (lower shift = earlier option)."""
    rank = {
        "c_level": -2.0,
        "vp": -1.5,
        "director": -1.0,
        "manager": 0.0,
        "individual": 1.0,
        "intern_student": 2.5,
    }
    return pd.Series(title).map({t[0]: rank[t[1]] for t in V.JOB_TITLES}).to_numpy()


def _sources(rng: np.random.Generator, intent: np.ndarray) -> np.ndarray:
    base = np.log(np.array([24, 18, 12, 10, 7, 10, 6, 5], dtype=float))
    tilt = np.array([0.0, 0.1, -0.3, 0.0, 0.4, 0.3, 0.3, 0.3])
    logits = base + np.outer(intent, tilt)
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


def _emails(rng, first, last, slug, size_band, n: int) -> np.ndarray:
    """Small companies and students use free mail more; about 1 % are mistyped."""
    free = rng.random(n) < np.clip(0.55 - 0.09 * size_band, 0.05, 1)
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
