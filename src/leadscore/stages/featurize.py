"""featurize: point-in-time snapshots with their features, label and out-of-time split."""

from __future__ import annotations

from pathlib import Path

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.features import build_features
from leadscore.io import read_table, write_json, write_table
from leadscore.scorer import FEATURES_FILE
from leadscore.snapshots import assign_split, data_end, make_snapshots


def run(
    schema: SchemaConfig,
    cfg: FeaturizeConfig,
    leads_path: Path,
    events_path: Path | None,
    out_path: Path,
    bundle_dir: Path,
) -> dict:
    leads = read_table(leads_path)
    events = read_table(events_path) if events_path is not None else None
    end = data_end(leads, events)
    snapshots = make_snapshots(leads, cfg.snapshot_ages_days, cfg.horizon_days, end)
    features = build_features(snapshots[["lead_id", "as_of"]], leads, events, cfg, schema)
    created_at = leads.set_index("lead_id")["created_at"]
    features = features.assign(
        created_at=snapshots["lead_id"].map(created_at).to_numpy(),
        age_days=snapshots["age_days"].to_numpy(),
        label=snapshots["label"].to_numpy(),
        split=assign_split(snapshots, created_at, cfg.valid_fraction, cfg.test_fraction).to_numpy(),
    )
    write_table(features, out_path)
    state = {"featurize": cfg.model_dump(), "schema": schema.model_dump(by_alias=True)}
    write_json(state, bundle_dir / FEATURES_FILE)
    counts = features.groupby("split")["label"].agg(["size", "mean"])
    return {
        "data_end": str(end),
        "snapshots": len(features),
        "features": features.shape[1],
        "splits": {
            s: {"rows": int(r["size"]), "rate": round(float(r["mean"]), 4)}
            for s, r in counts.iterrows()
        },
    }
