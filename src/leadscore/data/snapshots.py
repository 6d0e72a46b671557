"""Training examples as (lead, as-of moment) snapshots, and the out-of-time split.

A score is always "as of" a moment T. Training on snapshots at several lead ages teaches the model
what a lead looks like at the moments it will really be scored, and the label asks only what a
seller needs: will this lead convert within the horizon after T?
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from leadscore.config import ORDER_COLUMN

SPLITS: tuple[str, ...] = ("train", "valid", "test")


def data_end(leads: pd.DataFrame, events: pd.DataFrame | None) -> pd.Timestamp:
    """The last moment the export knows about: nothing later can have been observed (NaT for a
    table without timestamps)."""
    moments = [leads[c].max() for c in ("created_at", "converted_at") if c in leads]
    if events is not None and len(events):
        moments.append(events["ts"].max())
    return max((m for m in moments if pd.notna(m)), default=pd.NaT)


def arrival_order(leads: pd.DataFrame) -> pd.Series:
    """A sortable arrival key per lead (indexed by lead id): ``created_at``, else the declared
    ordering column, else a hash of the lead id (a random but reproducible order)."""
    if "created_at" in leads:
        key = leads["created_at"]
    elif ORDER_COLUMN in leads:
        key = leads[ORDER_COLUMN]
    else:
        key = leads["lead_id"].map(lambda i: hashlib.sha256(str(i).encode()).hexdigest())
    return pd.Series(key.to_numpy(), index=leads["lead_id"].to_numpy())


def split_method(leads: pd.DataFrame, order_by: str | None) -> dict:
    """How the held-out leads were chosen, with the warning a report must show if not by time."""
    if "created_at" in leads:
        return {"method": "created_at", "out_of_time": True, "warning": None}
    if ORDER_COLUMN in leads:
        return {"method": f"order_by: {order_by}", "out_of_time": True, "warning": None}
    return {
        "method": "random",
        "out_of_time": False,
        "warning": "The table has neither created_at nor an ordering column (schema.order_by): "
        "the held-out leads are a random sample, not the latest leads, so the metrics are not "
        "out-of-time and may be optimistic.",
    }


def make_snapshots(
    leads: pd.DataFrame, ages_days: tuple[float, ...], horizon_days: float, end: pd.Timestamp
) -> pd.DataFrame:
    """One row per lead and age with ``label`` = converted within the horizon after ``as_of``.

    Snapshots whose horizon is not closed by ``end`` are left out (their label is unknown), and so
    are leads already converted at ``as_of`` (there is nothing left to predict). A converted lead
    without ``converted_at`` counts as converting inside every snapshot's horizon.
    """
    if "created_at" not in leads:
        return _at_arrival(leads)
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


def _at_arrival(leads: pd.DataFrame) -> pd.DataFrame:
    """Without timestamps a lead has one snapshot, as it arrived, labelled by its outcome."""
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "as_of": pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns, UTC]"),
            "age_days": 0.0,
            "label": leads["converted"].fillna(0).astype("int8"),
        }
    ).reset_index(drop=True)


def split_leads(order: pd.Series, valid_fraction: float, test_fraction: float) -> pd.Series:
    """Out-of-time split of leads by their arrival key (indexed by lead id): the latest leads are
    the test window, never shuffled in."""
    order = order.sort_values(kind="stable")
    rank = pd.Series(np.arange(len(order)) / len(order), index=order.index)
    split = pd.Series("train", index=order.index, dtype="object")
    split[rank >= 1 - valid_fraction - test_fraction] = "valid"
    split[rank >= 1 - test_fraction] = "test"
    return split


def assign_split(
    snapshots: pd.DataFrame, order: pd.Series, valid_fraction: float, test_fraction: float
) -> pd.Series:
    """The split of each snapshot; ``order`` is :func:`arrival_order`. All snapshots of a lead
    share its split so that no lead is seen in training and judged in test."""
    lead_ids = snapshots["lead_id"].unique()
    split = split_leads(order.reindex(lead_ids), valid_fraction, test_fraction)
    return snapshots["lead_id"].map(split).astype("str")


def arrival_rank(snapshots: pd.DataFrame, order: pd.Series) -> np.ndarray:
    """Each snapshot's lead's arrival as a dense rank (ties kept), so later stages can order
    rows in time whether time came from ``created_at`` or an ordering column."""
    return snapshots["lead_id"].map(order.rank(method="dense")).to_numpy(dtype="float64")
