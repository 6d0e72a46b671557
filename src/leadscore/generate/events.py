"""Draw the engagement event log: how often each lead comes back, and what it does when it does.

A lead's event rate grows with its hidden intent, and keen leads lean towards pricing views, demo
requests and chats while cool ones open e-mails and unsubscribe. Activity is front-loaded (a burst
on the first day, then a decaying tail), as in real funnels. Converting leads also show a short
sales-cycle burst *after* the scoring moment, which only later snapshots can see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.generate.vocabulary import PAGES

# event type, base weight, tilt per unit of intent (log scale); social_share is not a contract
# type: it exercises the "other" bucket
EVENT_MIX: tuple[tuple[str, float, float], ...] = (
    ("email_open", 30.0, -0.1),
    ("email_click", 10.0, 0.3),
    ("page_view", 30.0, 0.1),
    ("pricing_view", 5.0, 0.6),
    ("content_download", 6.0, 0.2),
    ("webinar_attend", 3.0, 0.3),
    ("demo_request", 1.5, 0.8),
    ("chat_message", 3.0, 0.3),
    ("form_submit", 3.0, 0.2),
    ("unsubscribe", 1.5, -0.6),
    ("email_bounce", 1.0, 0.0),
    ("social_share", 0.5, 0.0),
)
SALES_CYCLE: tuple[str, ...] = (
    "email_open",
    "email_click",
    "page_view",
    "pricing_view",
    "demo_request",
)
FIRST_DAY_SHARE = 0.3
TAIL_MEAN_DAYS = 12.0
INTENT_BINS = 24


def draw_events(
    rng: np.random.Generator, leads: pd.DataFrame, intent: np.ndarray, bot: np.ndarray
) -> pd.DataFrame:
    """Organic events of every lead (bots leave none), unsorted and uncensored."""
    rate = np.where(bot, 0.0, np.exp(1.8 + 0.6 * intent))
    per_lead = rng.poisson(rate)
    owner = np.repeat(np.arange(len(leads)), per_lead)
    first_day = rng.random(len(owner)) < FIRST_DAY_SHARE
    offset_days = np.where(
        first_day, rng.random(len(owner)), rng.exponential(TAIL_MEAN_DAYS, len(owner))
    )
    types = _event_types(rng, intent[owner])
    return _frame(rng, leads, owner, offset_days, types)


def draw_sales_cycle(
    rng: np.random.Generator, leads: pd.DataFrame, start: pd.Series, end: pd.Series
) -> pd.DataFrame:
    """A few touches between the scoring moment and conversion, for leads that convert."""
    per_lead = rng.poisson(3.0, len(leads))
    owner = np.repeat(np.arange(len(leads)), per_lead)
    span = (end - start).dt.total_seconds().to_numpy() / 86400
    lead_start = (start - leads["created_at"]).dt.total_seconds().to_numpy() / 86400
    offset_days = lead_start[owner] + (1.0 - rng.random(len(owner))) * span[owner]  # after T
    types = np.asarray(SALES_CYCLE, dtype=object)[rng.integers(0, len(SALES_CYCLE), len(owner))]
    return _frame(rng, leads, owner, offset_days, types)


def _event_types(rng: np.random.Generator, intent: np.ndarray) -> np.ndarray:
    """Sample each event's type from its lead's intent-tilted mix (intent binned for speed)."""
    names = np.asarray([e[0] for e in EVENT_MIX], dtype=object)
    base = np.log([e[1] for e in EVENT_MIX])
    tilt = np.array([e[2] for e in EVENT_MIX])
    edges = np.linspace(-3, 3, INTENT_BINS - 1)
    binned = np.searchsorted(edges, intent)
    centres = np.concatenate([[-3.25], (edges[:-1] + edges[1:]) / 2, [3.25]])
    out = np.empty(len(intent), dtype=object)
    for b in np.unique(binned):
        rows = binned == b
        p = np.exp(base + tilt * centres[b])
        out[rows] = names[rng.choice(len(names), size=int(rows.sum()), p=p / p.sum())]
    return out


def _frame(rng, leads: pd.DataFrame, owner, offset_days, types) -> pd.DataFrame:
    page = np.where(types == "page_view", _pages(rng, len(types)), np.array(None, dtype=object))
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


def _pages(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.asarray(PAGES, dtype=object)[rng.integers(0, len(PAGES), n)]
