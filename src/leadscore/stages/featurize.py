"""featurize: point-in-time snapshots with their features, label and out-of-time split."""

from __future__ import annotations

from pathlib import Path

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.data.files import read_json, read_table, write_json, write_table
from leadscore.features.training_table import training_table
from leadscore.scoring.bundle import FEATURES_FILE


def run(
    schema: SchemaConfig,
    cfg: FeaturizeConfig,
    *,
    leads_path: Path,
    events_path: Path | None,
    audit_path: Path,
    out_path: Path,
    excluded_path: Path,
    bundle_dir: Path,
) -> dict:
    leads = read_table(leads_path)
    events = read_table(events_path) if events_path is not None else None
    excluded = set(read_json(audit_path)["excluded"])
    table = training_table(leads, events, cfg=cfg, schema=schema, excluded=excluded)
    write_table(table.features, out_path)
    write_table(table.excluded, excluded_path)
    state = {"featurize": cfg.model_dump(), "schema": table.schema.model_dump(by_alias=True)}
    write_json(state, bundle_dir / FEATURES_FILE)
    return table.summary() | {"excluded_columns": sorted(excluded)}
