"""Training examples as (lead, as-of moment) snapshots, and the out-of-time split.

A score is always "as of" a moment T. Training on snapshots at several lead ages teaches the model
what a lead looks like at the moments it will really be scored, and the label asks only what a
seller needs: will this lead convert within the horizon after T?
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPLITS: tuple[str, ...] = ("train", "valid", "test")


def data_end(leads: pd.DataFrame, events: pd.DataFrame | None) -> pd.Timestamp:
    """The last moment the export knows about: nothing later can have been observed."""
    moments = [leads["created_at"].max()]
    if "converted_at" in leads:
        moments.append(leads["converted_at"].max())
    if events is not None and len(events):
        moments.append(events["ts"].max())
    return max(m for m in moments if pd.notna(m))


def make_snapshots(
    leads: pd.DataFrame, ages_days: tuple[float, ...], horizon_days: float, end: pd.Timestamp
) -> pd.DataFrame:
    """One row per lead and age with ``label`` = converted within the horizon after ``as_of``.

    Snapshots whose horizon is not closed by ``end`` are left out (their label is unknown), and so
    are leads already converted at ``as_of`` (there is nothing left to predict). A converted lead
    without ``converted_at`` counts as converting inside every snapshot's horizon.
    """
    horizon = pd.Timedelta(days=horizon_days)
    converted = leads["converted"].fillna(0).astype(bool)
    converted_at = leads.get("converted_at")
    parts = []
    for age in ages_days:
        as_of = leads["created_at"] + pd.Timedelta(days=age)
        if converted_at is None:
            already, within = converted & False, converted
        else:
            known = converted_at.notna()
            already = converted & known & (converted_at <= as_of)
            within = converted & (~known | (converted_at <= as_of + horizon))
        keep = ~already & (as_of + horizon <= end)
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": leads["lead_id"][keep],
                    "as_of": as_of[keep],
                    "age_days": float(age),
                    "label": within[keep].astype("int8"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def assign_split(
    snapshots: pd.DataFrame, created_at: pd.Series, valid_fraction: float, test_fraction: float
) -> pd.Series:
    """Out-of-time split by lead: the latest leads are the test window, never shuffled in.

    ``created_at`` is indexed by lead id. All snapshots of a lead share its split so that no lead
    is seen in training and judged in test.
    """
    lead_ids = snapshots["lead_id"].unique()
    order = created_at.reindex(lead_ids).sort_values(kind="stable")
    rank = pd.Series(np.arange(len(order)) / len(order), index=order.index)
    split = pd.Series("train", index=order.index, dtype="object")
    split[rank >= 1 - valid_fraction - test_fraction] = "valid"
    split[rank >= 1 - test_fraction] = "test"
    return snapshots["lead_id"].map(split).astype("str")
