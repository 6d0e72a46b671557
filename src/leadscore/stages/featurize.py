"""featurize: point-in-time snapshots with their features, label and out-of-time split.

The columns the leakage audit excluded are left out of the model's features and out of the schema
saved with it; their features go to a separate table, for the one comparison that shows what
they would have added.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.features import build_features
from leadscore.io import read_json, read_table, write_json, write_table
from leadscore.scorer import FEATURES_FILE
from leadscore.snapshots import (
    arrival_order,
    arrival_rank,
    assign_split,
    data_end,
    make_snapshots,
)


def run(
    schema: SchemaConfig,
    cfg: FeaturizeConfig,
    leads_path: Path,
    events_path: Path | None,
    audit_path: Path,
    out_path: Path,
    excluded_path: Path,
    bundle_dir: Path,
) -> dict:
    leads = read_table(leads_path)
    events = read_table(events_path) if events_path is not None else None
    end = data_end(leads, events)
    snapshots = make_snapshots(leads, cfg.snapshot_ages_days, cfg.horizon_days, end)
    keys = snapshots[["lead_id", "as_of"]]
    excluded = set(read_json(audit_path)["excluded"])
    lead_time = schema.without(excluded).model_copy(update={"order_by": None})
    features = build_features(keys, leads, events, cfg, lead_time)
    order = arrival_order(leads)
    created_at = leads.set_index("lead_id").get(
        "created_at", pd.Series(pd.NaT, index=order.index, dtype="datetime64[ns, UTC]")
    )
    features = features.assign(
        created_at=snapshots["lead_id"].map(created_at).to_numpy(),
        arrival=arrival_rank(snapshots, order),
        age_days=snapshots["age_days"].to_numpy(),
        label=snapshots["label"].to_numpy(),
        split=assign_split(snapshots, order, cfg.valid_fraction, cfg.test_fraction).to_numpy(),
    )
    write_table(features, out_path)
    comparable = excluded - set(schema.exclude)  # the audit's exclusions, not the user's own
    if comparable:
        everything = build_features(keys, leads, events, cfg, schema.without(set(schema.exclude)))
        keys = everything[["lead_id", "as_of", *everything.columns.difference(features.columns)]]
    write_table(keys.reset_index(drop=True), excluded_path)
    state = {"featurize": cfg.model_dump(), "schema": lead_time.model_dump(by_alias=True)}
    write_json(state, bundle_dir / FEATURES_FILE)
    counts = features.groupby("split")["label"].agg(["size", "mean"])
    return {
        "data_end": str(end),
        "snapshots": len(features),
        "features": features.shape[1],
        "excluded_columns": sorted(excluded),
        "splits": {
            s: {"rows": int(r["size"]), "rate": round(float(r["mean"]), 4)}
            for s, r in counts.iterrows()
        },
    }
