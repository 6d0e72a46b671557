"""validate: split the raw tables into valid rows and a quarantine with reasons, and audit the
lead table's columns for leakage on the training window."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.config import FeaturizeConfig, SchemaConfig, ValidateConfig
from leadscore.data.files import kept_figures, read_table, write_json, write_table
from leadscore.data.labels import audit_input, require_label
from leadscore.data.leakage import audit_table
from leadscore.data.snapshots import window_starts
from leadscore.data.validation import (
    check_reject_rate,
    events_in_scope,
    in_scope,
    validate_events,
    validate_leads,
)


def run(
    schema: SchemaConfig,
    cfg: ValidateConfig,
    featurize: FeaturizeConfig,
    *,
    leads_path: Path,
    events_path: Path | None,
    outcomes_path: Path | None,
    out_dir: Path,
    summary_path: Path,
    audit_path: Path,
    now: pd.Timestamp | None = None,
) -> dict:
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    tolerance = cfg.future_tolerance_hours
    outcomes = read_table(outcomes_path) if outcomes_path is not None else None
    raw_leads, earlier = in_scope(read_table(leads_path), schema, cfg.created_from)
    require_label(raw_leads, schema, outcomes)
    leads = validate_leads(
        raw_leads, schema=schema, now=now, future_tolerance_hours=tolerance, outcomes=outcomes
    )
    results = {"leads": leads}
    out_of_scope = {"leads": len(earlier)}
    if events_path is not None:
        raw_events, out_of_scope["events"] = events_in_scope(
            read_table(events_path), earlier, schema
        )
        results["events"] = validate_events(
            raw_events,
            leads.valid["lead_id"],
            schema=schema,
            now=now,
            future_tolerance_hours=tolerance,
        )
    for table, result in results.items():
        write_table(result.valid, out_dir / f"{table}.parquet")
        write_table(result.quarantine, out_dir / f"{table}_quarantine.parquet")
    summary = {table: result.summary() for table, result in results.items()}
    for table, count in out_of_scope.items():
        summary[table]["out_of_scope"] = count
    write_json(kept_figures(summary), summary_path)
    check_reject_rate(results, cfg.max_reject_rate)
    frame, audited = audit_input(raw_leads, leads.valid, schema)
    windows = window_starts(featurize, schema, leads.valid)
    audit = audit_table(frame, leads.valid, schema=audited, cfg=cfg, held_out_fractions=windows)
    write_json(audit, audit_path)
    return summary | {"leakage_excluded": audit["excluded"]}
