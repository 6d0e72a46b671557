"""Engagement features: what each lead did before the scoring moment, and how recently.

Every feature of a snapshot (lead, T) is computed from that lead's events with ``ts <= T`` only;
later events cannot leak in. The computation is one vectorised join of events to snapshots by
lead (numpy index arithmetic), then ``numpy.bincount`` per event type and window: no Python loop
over leads, no pandas call per snapshot, and sums in a fixed order, so the same input always
gives bit-identical features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.schema import EVENT_TYPES, OTHER_EVENT
from leadscore.features.cleaning import Columns, column, positions, utc_moments

ENGAGEMENT_TYPES: tuple[str, ...] = (*EVENT_TYPES, OTHER_EVENT)
TREND_RECENT_DAYS = 7.0
TREND_BASE_DAYS = 30.0
_EPOCH = np.datetime64(0, "s")


def engagement_features(
    snapshots: Columns,
    events: Columns,
    windows_days: tuple[float, ...],
    half_life_days: float,
) -> dict[str, np.ndarray]:
    """One row per snapshot: counts per type and window, recency, decayed counts, activity.

    Columns per event type: ``<type>_<w>d`` (count in the last w days), ``<type>_days_since``
    (missing if never), ``<type>_decayed`` (count weighted by 2^(-age / half-life)); overall:
    ``events_<w>d``, ``active_days_<max w>d``, ``days_since_last_event`` and ``events_trend_7d``
    (events in the last 7 days minus the weekly average of the 30 days before).
    """
    lead_ids = column(snapshots, "lead_id")
    n = len(lead_ids)
    row, age, kind = _pairs(lead_ids, utc_moments(snapshots["as_of"]), events)
    out: dict[str, np.ndarray] = {}
    # One bincount per window over (snapshot, type) cells rather than one per type and window.
    types = len(ENGAGEMENT_TYPES)
    cell, cells = row * types + kind, n * types
    in_window = {w: _count(cell[age < w], cells).reshape(n, types) for w in windows_days}
    since = _min_age(cell, age, cells).reshape(n, types)
    decay = np.exp2(-age / half_life_days)
    decayed = (np.bincount(cell, weights=decay, minlength=cells) * 1.0).reshape(n, types)
    for k, name in enumerate(ENGAGEMENT_TYPES):
        for w in windows_days:
            out[f"{name}_{w:g}d"] = in_window[w][:, k]
        out[f"{name}_days_since"] = since[:, k]
        out[f"{name}_decayed"] = decayed[:, k]
    for w in windows_days:
        out[f"events_{w:g}d"] = _count(row[age < w], n)
    widest = max(windows_days)
    recent = age < widest
    span = int(np.ceil(widest)) + 1
    active = np.unique(row[recent] * span + np.floor(age[recent]).astype("int64")) // span
    out[f"active_days_{widest:g}d"] = _count(active, n)
    out["days_since_last_event"] = _min_age(row, age, n)
    last_week = _count(row[age < TREND_RECENT_DAYS], n)
    before = (age >= TREND_RECENT_DAYS) & (age < TREND_RECENT_DAYS + TREND_BASE_DAYS)
    out["events_trend_7d"] = (
        last_week - _count(row[before], n) * TREND_RECENT_DAYS / TREND_BASE_DAYS
    )
    return out


def _pairs(lead_ids: np.ndarray, as_of: np.ndarray, events: Columns) -> tuple[np.ndarray, ...]:
    """(snapshot row, event age in days at T, event type code) for every event with ts <= T.

    Each event is paired with every snapshot of its lead, events in their order: the weighted
    sums per snapshot then add in the same order on every run.
    """
    codes, leads = pd.factorize(lead_ids)
    owner = positions(column(events, "lead_id"), leads)
    known = np.flatnonzero(owner >= 0)
    rows_of_lead = np.argsort(codes, kind="stable")
    count = np.bincount(codes, minlength=len(leads))
    first = np.cumsum(count) - count
    repeats = count[owner[known]]
    event = np.repeat(known, repeats)
    within = np.arange(len(event)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    row = rows_of_lead[np.repeat(first[owner[known]], repeats) + within]
    age = _days(as_of)[row] - _days(utc_moments(events["ts"]))[event]
    kind = positions(column(events, "event_type"), np.asarray(ENGAGEMENT_TYPES, dtype=object))
    kind = np.where(kind < 0, len(ENGAGEMENT_TYPES) - 1, kind)[event]  # unknown types -> other
    seen = age >= 0
    return row[seen], age[seen], kind[seen]


def _days(moments: np.ndarray) -> np.ndarray:
    return (moments - _EPOCH) / np.timedelta64(1, "D")


def _count(rows: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(rows, minlength=n).astype("float64")


def _min_age(rows: np.ndarray, age: np.ndarray, n: int) -> np.ndarray:
    least = np.full(n, np.inf)
    np.minimum.at(least, rows, age)
    return np.where(np.isinf(least), np.nan, least)
