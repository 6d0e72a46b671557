"""validate: split the raw tables into valid rows and a quarantine with reasons, and audit the
lead table's columns for leakage on the training window."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.config import FeaturizeConfig, SchemaConfig, ValidateConfig
from leadscore.data.files import read_table, write_json, write_table
from leadscore.data.leakage import audit_table
from leadscore.data.validation import check_reject_rate, validate_events, validate_leads


def run(
    schema: SchemaConfig,
    cfg: ValidateConfig,
    featurize: FeaturizeConfig,
    *,
    leads_path: Path,
    events_path: Path | None,
    out_dir: Path,
    summary_path: Path,
    audit_path: Path,
    now: pd.Timestamp | None = None,
) -> dict:
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    tolerance = cfg.future_tolerance_hours
    raw_leads = read_table(leads_path)
    results = {
        "leads": validate_leads(raw_leads, schema=schema, now=now, future_tolerance_hours=tolerance)
    }
    if events_path is not None:
        known = results["leads"].valid["lead_id"]
        raw_events = read_table(events_path)
        results["events"] = validate_events(
            raw_events, known, schema=schema, now=now, future_tolerance_hours=tolerance
        )
    for table, result in results.items():
        write_table(result.valid, out_dir / f"{table}.parquet")
        write_table(result.quarantine, out_dir / f"{table}_quarantine.parquet")
    summary = {table: result.summary() for table, result in results.items()}
    write_json(summary, summary_path)
    check_reject_rate(results, cfg.max_reject_rate)
    fractions = (featurize.valid_fraction, featurize.test_fraction)
    audit = audit_table(
        raw_leads, results["leads"].valid, schema=schema, cfg=cfg, held_out_fractions=fractions
    )
    write_json(audit, audit_path)
    return summary | {"leakage_excluded": audit["excluded"]}
