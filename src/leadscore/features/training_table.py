"""The featurized training table: (lead, as-of) snapshots with their features, label and split.

The columns the leakage audit excluded are left out of the model's features and out of the
schema saved with it; their features go to a separate table, for the one comparison that shows
what they would have added.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.config import ORDER_COLUMN, FeaturizeConfig, SchemaConfig
from leadscore.data.schema import require_columns
from leadscore.data.snapshots import (
    arrival_order,
    arrival_rank,
    assign_split,
    data_end,
    make_snapshots,
    window_starts,
)
from leadscore.data.timestamps import has_time_of_day
from leadscore.features.build import build_features


@dataclass(frozen=True)
class TrainingTable:
    # keys, features, created_at, arrival, age_days, label, split (and arrival_order, the
    # ordering column's values, when the table has one)
    features: pd.DataFrame
    excluded: pd.DataFrame  # keys and the features of the audit's excluded columns
    schema: SchemaConfig  # the mapping the model reads (the excluded columns left out)
    data_end: pd.Timestamp

    def summary(self) -> dict:
        """Sizes and conversion rate of each window, for the stage's output."""
        counts = self.features.groupby("split")["label"].agg(["size", "mean"])
        return {
            "data_end": str(self.data_end),
            "snapshots": len(self.features),
            "features": self.features.shape[1],
            "splits": {
                s: {"rows": int(r["size"]), "rate": round(float(r["mean"]), 4)}
                for s, r in counts.iterrows()
            },
        }


def training_table(
    leads: pd.DataFrame,
    events: pd.DataFrame | None,
    *,
    cfg: FeaturizeConfig,
    schema: SchemaConfig,
    excluded: set[str],
) -> TrainingTable:
    """Snapshots of validated, canonical ``leads`` at ``cfg``'s ages with their features and the
    out-of-time split; ``excluded`` names the user's columns the leakage audit left out."""
    require_columns(leads, ("lead_id", "converted"), "validated leads")
    if "created_at" in leads and schema.time_of_day is None:
        schema = schema.model_copy(update={"time_of_day": has_time_of_day(leads["created_at"])})
    end = data_end(leads, events)
    snapshots = make_snapshots(leads, cfg.snapshot_ages_days, cfg.horizon_days, end)
    keys = snapshots[["lead_id", "as_of"]]
    not_a_feature = {"order_by": None, "order_kind": "number", "order_values": ()}
    lead_time = schema.without(excluded).model_copy(update=not_a_feature)
    features = build_features(keys, leads, events, cfg, lead_time)
    order = arrival_order(leads)
    created_at = leads.set_index("lead_id").get(
        "created_at", pd.Series(pd.NaT, index=order.index, dtype="datetime64[ns, UTC]")
    )
    if ORDER_COLUMN in leads:  # the ordering column's own values, for the report's windows
        by_lead = leads.set_index("lead_id")[ORDER_COLUMN]
        features[ORDER_COLUMN] = snapshots["lead_id"].map(by_lead).to_numpy()
    features = features.assign(
        created_at=snapshots["lead_id"].map(created_at).to_numpy(),
        arrival=arrival_rank(snapshots, order),
        age_days=snapshots["age_days"].to_numpy(),
        label=snapshots["label"].to_numpy(),
        split=assign_split(snapshots, order, *window_starts(cfg, schema, leads)).to_numpy(),
    )
    comparable = excluded - set(schema.exclude)  # the audit's exclusions, not the user's own
    if comparable:
        everything = build_features(keys, leads, events, cfg, schema.without(set(schema.exclude)))
        keys = everything[["lead_id", "as_of", *everything.columns.difference(features.columns)]]
    return TrainingTable(features, keys.reset_index(drop=True), lead_time, end)
