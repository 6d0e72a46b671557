"""Training examples as (lead, as-of moment) snapshots, and the out-of-time split.

A score is always "as of" a moment T. Training on snapshots at several lead ages teaches the model
what a lead looks like at the moments it will really be scored, and the label asks only what a
seller needs: will this lead convert within the horizon after T?
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd

from leadscore.config import ORDER_COLUMN, FeaturizeConfig, SchemaConfig
from leadscore.errors import ConfigError

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


@dataclass(frozen=True)
class WindowStart:
    """Where a window starts, as an arrival key: a moment, a number or a place in
    ``schema.order_values`` (see :func:`window_starts`)."""

    key: object


# a window is the latest share of the leads, or every lead from a key on
Window: TypeAlias = float | WindowStart


def window_starts(
    cfg: FeaturizeConfig, schema: SchemaConfig, leads: pd.DataFrame
) -> tuple[Window, Window]:
    """The validation and test windows as ``cfg`` gives them, in the arrival key's terms."""
    return (
        _window(cfg.valid_fraction, cfg.valid_from, "featurize.valid_from", schema, leads),
        _window(cfg.test_fraction, cfg.test_from, "featurize.test_from", schema, leads),
    )


def _window(
    fraction: float, start: str | float | None, key: str, schema: SchemaConfig, leads: pd.DataFrame
) -> Window:
    if start is None:
        return fraction
    if "created_at" in leads or (ORDER_COLUMN in leads and schema.order_kind == "date"):
        try:
            return WindowStart(pd.Timestamp(str(start)).tz_localize("UTC"))
        except ValueError as exc:
            raise ConfigError(f"{key}: {start!r} is not an ISO-8601 date (2018-04-01)") from exc
    if ORDER_COLUMN not in leads:
        raise ConfigError(f"{key} needs created_at or schema.order_by to place leads in time")
    if schema.order_kind == "values":
        if str(start) not in schema.order_values:
            raise ConfigError(f"{key}: {start!r} is not one of schema.order_values")
        return WindowStart(float(schema.order_values.index(str(start))))
    try:
        return WindowStart(float(start))
    except ValueError as exc:
        raise ConfigError(f"{key}: {start!r} is not a number of {schema.order_by}") from exc


def split_leads(order: pd.Series, valid: Window, test: Window) -> pd.Series:
    """Out-of-time split of leads by their arrival key (indexed by lead id): the latest leads are
    the test window, never shuffled in. A window given by its start holds every lead from that
    key on; a fraction of validation leads given with a test start ends where the test starts."""
    order = order.sort_values(kind="stable")
    position = np.arange(len(order))
    rank = position / len(order)
    split = pd.Series("train", index=order.index, dtype="object")
    if isinstance(test, WindowStart):
        test_at = int(order.searchsorted(test.key, side="left"))
        in_test = position >= test_at
        valid_end = test_at / max(len(order), 1)
    else:
        in_test = rank >= 1 - test
    if isinstance(valid, WindowStart):
        in_valid = position >= int(order.searchsorted(valid.key, side="left"))
    elif isinstance(test, WindowStart):
        in_valid = rank >= valid_end - valid
    else:
        in_valid = rank >= 1 - valid - test
    split[in_valid] = "valid"
    split[in_test] = "test"
    return split


def assign_split(
    snapshots: pd.DataFrame, order: pd.Series, valid: Window, test: Window
) -> pd.Series:
    """The split of each snapshot; ``order`` is :func:`arrival_order`. All snapshots of a lead
    share its split so that no lead is seen in training and judged in test."""
    lead_ids = snapshots["lead_id"].unique()
    split = split_leads(order.reindex(lead_ids), valid, test)
    return snapshots["lead_id"].map(split).astype("str")


def arrival_rank(snapshots: pd.DataFrame, order: pd.Series) -> np.ndarray:
    """Each snapshot's lead's arrival as a dense rank (ties kept), so later stages can order
    rows in time whether time came from ``created_at`` or an ordering column."""
    return snapshots["lead_id"].map(order.rank(method="dense")).to_numpy(dtype="float64")
