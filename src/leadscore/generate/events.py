"""The engagement log: what each lead does after it arrives, and how likely a log is per stage.

A lead's events form a Poisson process. The intensity of event type k at lead age t (days) is
``RATE[stage][k] * (exp(-t / FADE[stage]) + SUSTAIN[stage])`` per day:

- a passive lead has a burst that fades within days (time constant 1.5 days) and nothing after;
- a researcher reads for weeks (8 days), heavy on page views, content, webinars, and now and
  then pricing and a demo request;
- a buyer has a first-days burst (2 days) and then a sustained level until it converts, heavy
  on pricing, demo requests and chat; after conversion its marketing log stops.

So engagement *saturates*: a researcher is about as active as a buyer, so beyond a few events
more activity adds little, and the event mix (pricing, demos) matters more than the count; and
it *decays*: a buyer's interest does not fade while the others' does, so the same event says
more on day 6 than on day 0, and a quiet week after an early burst points away from buying.
``social_share`` is not a contract type: it exercises the "other" bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import poisson

from leadscore.generate.funnel import STAGES
from leadscore.generate.vocabulary import COMPANY_SIZES, PAGES

# Engagement profiles. Each does TOTAL events per day at arrival; a profile-specific share of
# them are intent signals (pricing views, demo requests, chat) or unsubscribes, and the rest
# follow one background mix for everyone (opens, clicks, page views, content, webinars, forms).
PROFILES: tuple[str, ...] = (
    "passive",
    "price shopper",
    "reader",
    "binger",
    "engaged buyer",
    "quiet buyer",
)
TOTAL: tuple[float, ...] = (1.5, 2.0, 4.5, 12.0, 3.0, 1.5)
SIGNAL_SHARE: dict[str, tuple[float, ...]] = {
    "pricing_view": (0.02, 0.35, 0.2, 0.2, 0.2, 0.04),
    "demo_request": (0.003, 0.01, 0.05, 0.05, 0.05, 0.007),
    "chat_message": (0.01, 0.02, 0.04, 0.04, 0.04, 0.015),
    "unsubscribe": (0.04, 0.05, 0.001, 0.001, 0.001, 0.01),
}
BACKGROUND: dict[str, float] = {
    "email_open": 0.35,
    "email_click": 0.12,
    "page_view": 0.35,
    "content_download": 0.07,
    "webinar_attend": 0.02,
    "form_submit": 0.05,
    "email_bounce": 0.02,
    "social_share": 0.02,
}
FADE = (3.0, 2.0, 6.0, 4.0, 3.0, 3.0)  # days: the time constant of each profile's first burst
SUSTAIN = (0.0, 0.0, 0.0, 0.0, 0.3, 0.1)  # the level that stays, as a share of the burst's start
# each stage's profiles and their shares: researchers read along or binge, most buyers engage
STAGE_PROFILES: dict[str, dict[str, float]] = {
    "passive": {"passive": 1.0},
    "researcher": {"reader": 0.7, "binger": 0.3},
    "buyer": {"engaged buyer": 0.7, "quiet buyer": 0.3},
}
# Sticker shock: half the passive leads of small companies go straight to pricing and leave.
PRICE_SHOPPERS = 0.5
SMALL_COMPANIES: frozenset[str] = frozenset({"1-10", "11-50"})
HISTORY_DAYS = 365.0  # non-buyers' processes are drawn this far
TYPES: tuple[str, ...] = (*BACKGROUND, *SIGNAL_SHARE)


def _rates() -> np.ndarray:
    """(profiles, types): events per day at arrival."""
    signal = np.array([SIGNAL_SHARE[t] for t in SIGNAL_SHARE]).T
    background = np.outer(1.0 - signal.sum(axis=1), list(BACKGROUND.values()))
    background /= sum(BACKGROUND.values())
    return np.asarray(TOTAL)[:, None] * np.hstack([background, signal])


_RATES = _rates()


def profile_shares(leads: pd.DataFrame) -> np.ndarray:
    """(leads, stages, profiles): each profile's share within each stage, for each lead."""
    shares = np.zeros((len(leads), len(STAGES), len(PROFILES)))
    for c, name in enumerate(STAGES):
        for profile, share in STAGE_PROFILES[name].items():
            shares[:, c, PROFILES.index(profile)] = share
    size = leads["company_size"].map({raw: b for b, raws, _ in COMPANY_SIZES for raw in raws})
    small = size.isin(SMALL_COMPANIES).to_numpy()
    passive = STAGES.index("passive")
    shares[small, passive, PROFILES.index("passive")] = 1.0 - PRICE_SHOPPERS
    shares[small, passive, PROFILES.index("price shopper")] = PRICE_SHOPPERS
    return shares


def draw_profile(u: np.ndarray, stage: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Each lead's engagement profile within its stage, from one uniform per lead."""
    cumulative = np.cumsum(shares[np.arange(len(stage)), stage], axis=1)
    return np.minimum((u[:, None] > cumulative).sum(axis=1), len(PROFILES) - 1)


def draw_events(
    rng: np.random.Generator, leads: pd.DataFrame, profile: np.ndarray, end_days: np.ndarray
) -> pd.DataFrame:
    """Every lead's events up to ``end_days`` after its arrival (bots pass 0), unsorted and
    uncensored; drawn lead by lead in table order with a fixed number of draws per event."""
    fade, sustain = np.asarray(FADE)[profile], np.asarray(SUSTAIN)[profile]
    burst = fade * -np.expm1(-end_days / fade)
    expected = _RATES.sum(axis=1)[profile] * (burst + sustain * end_days)
    per_lead = poisson.ppf(rng.random(len(leads)), expected).astype("int64")
    owner = np.repeat(np.arange(len(leads)), per_lead)
    u = rng.random((len(owner), 4))
    in_burst = u[:, 0] * (burst + sustain * end_days)[owner] < burst[owner]
    from_burst = -fade[owner] * np.log1p(u[:, 1] * np.expm1(-end_days[owner] / fade[owner]))
    offset = np.where(in_burst, from_burst, u[:, 1] * end_days[owner])
    shares = np.cumsum(_RATES / _RATES.sum(axis=1, keepdims=True), axis=1)[profile[owner]]
    kind = np.minimum((u[:, 2:3] > shares).sum(axis=1), len(TYPES) - 1)
    types = np.asarray(TYPES, dtype=object)[kind]
    return _frame(leads, owner, offset, types, u[:, 3])


@dataclass(frozen=True)
class EventTimes:
    """A lead table's events as arrays: owner row, time since its lead's arrival, type code."""

    owner: np.ndarray
    since: np.ndarray  # timedelta64[us]
    kind: np.ndarray

    @classmethod
    def of(cls, leads: pd.DataFrame, events: pd.DataFrame) -> EventTimes:
        """The events of the leads in ``leads`` (unique ids); other leads' events are ignored."""
        owner = pd.Index(leads["lead_id"]).get_indexer(events["lead_id"])
        events, owner = events[owner >= 0], owner[owner >= 0]
        created = leads["created_at"].array.as_unit("us")[owner]
        since = np.asarray(events["ts"].array.as_unit("us") - created, dtype="timedelta64[us]")
        kind = pd.Index(TYPES).get_indexer(events["event_type"])
        return cls(owner=owner, since=since, kind=kind)


def event_log_likelihood(times: EventTimes, age: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """log-density of each lead's events up to its ``age`` (a timedelta64[us] per lead) under
    each stage, shape (leads, 3): a mixture over the stage's profiles (``shares``, from
    :func:`profile_shares`)."""
    profiles = _profile_log_likelihood(times, age)
    with np.errstate(divide="ignore"):  # a profile a stage never has: log 0
        return logsumexp(np.log(shares) + profiles[:, None, :], axis=2)


def _profile_log_likelihood(times: EventTimes, age: np.ndarray) -> np.ndarray:
    """(leads, profiles): the Poisson process log-density of the events seen by each age."""
    seen = times.since <= age[times.owner]
    owner, kind = times.owner[seen], times.kind[seen]
    t = times.since[seen] / np.timedelta64(1, "D")
    days = age / np.timedelta64(1, "D")
    out = np.empty((len(age), len(PROFILES)))
    for p in range(len(PROFILES)):
        floor = np.log(SUSTAIN[p]) if SUSTAIN[p] else -np.inf
        shape = np.logaddexp(-t / FADE[p], floor)
        log_density = np.bincount(
            owner, weights=np.log(_RATES[p, kind]) + shape, minlength=len(age)
        )
        compensator = _RATES[p].sum() * (-FADE[p] * np.expm1(-days / FADE[p]) + SUSTAIN[p] * days)
        out[:, p] = log_density - compensator
    return out


def _frame(leads: pd.DataFrame, owner, offset_days, types, u_page) -> pd.DataFrame:
    pages = np.asarray(PAGES, dtype=object)[(u_page * len(PAGES)).astype("int64")]
    page = np.where(types == "page_view", pages, np.array(None, dtype=object))
    page = np.where(types == "pricing_view", "/pricing", page)
    page = np.where(types == "content_download", "/resources/buyers-guide", page)
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy()[owner],
            "ts": pd.DatetimeIndex(leads["created_at"])[owner]
            + pd.to_timedelta(np.round(offset_days * 86400e6), unit="us"),
            "event_type": types,
            "page": page,
        }
    )
