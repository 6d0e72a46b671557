"""Nightly batch scoring: every input row is scored or quarantined, and the counts reconcile."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from leadscore.drift import stability
from leadscore.errors import DriftError, RejectRateError
from leadscore.io import read_table, write_json, write_table
from leadscore.scorer import TOP_BAND, Scorer
from leadscore.validation import QUARANTINE_COLUMNS, validate_events, validate_leads

log = logging.getLogger(__name__)
FUTURE_TOLERANCE_HOURS = 0.0  # at scoring time, nothing may come from after the as-of moment


def quarantine_path(out_path: Path) -> Path:
    return out_path.with_name(f"{out_path.stem}_quarantine{out_path.suffix}")


def score_tables(
    scorer: Scorer,
    leads_path: Path,
    events_path: Path | None,
    out_path: Path,
    as_of: pd.Timestamp,
    max_reject_rate: float,
    drift_threshold: float = 0.25,
    fail_on_drift: bool = False,
) -> dict:
    """Score the lead table as of ``as_of``; leads created after it do not exist yet then."""
    leads = validate_leads(read_table(leads_path), scorer.schema, as_of, FUTURE_TOLERANCE_HOURS)
    quarantine = [leads.quarantine]
    events = None
    skipped = 0
    if events_path is not None:
        raw_events, skipped = _events_of(read_table(events_path), leads.valid["lead_id"], scorer)
        checked = validate_events(
            raw_events,
            scorer.schema,
            leads.valid["lead_id"],
            pd.Timestamp.now(tz="UTC"),
            FUTURE_TOLERANCE_HOURS,
        )
        events = checked.valid
        quarantine.append(checked.quarantine.assign(reason="event:" + checked.quarantine["reason"]))
    features = scorer.features(leads.valid, events, as_of)
    scores = scorer.score_features(features, explain_bands=TOP_BAND)
    kept = upsert_scores(scores, out_path)
    rejected = pd.concat(quarantine, ignore_index=True)[QUARANTINE_COLUMNS]
    write_table(rejected, quarantine_path(out_path))
    summary = {
        "read": leads.n_input,
        "scored": len(scores),
        "quarantined": len(leads.quarantine),
        "events_quarantined": len(rejected) - len(leads.quarantine),
        "events_skipped": skipped,
        "kept_from_earlier_runs": kept,
        "bands": {str(k): int(v) for k, v in scores["band"].value_counts().sort_index().items()},
        "as_of": str(as_of),
    }
    if summary["read"] != summary["scored"] + summary["quarantined"]:
        raise AssertionError(f"batch counts do not reconcile: {summary}")
    if scorer.drift_reference is not None:
        drift = stability(
            scorer.drift_reference, features.assign(probability=scores["probability"].to_numpy())
        )
        summary["drift_psi"] = {k: round(v, 4) for k, v in drift.items()}
        write_json(summary["drift_psi"], out_path.with_name(f"{out_path.stem}_drift.json"))
    drifted = sorted(k for k, v in summary.get("drift_psi", {}).items() if v > drift_threshold)
    if drifted:
        log.warning("drift above PSI %.2f in: %s", drift_threshold, ", ".join(drifted))
    rate = summary["quarantined"] / max(summary["read"], 1)
    if rate > max_reject_rate:
        raise RejectRateError(
            f"{summary['quarantined']} of {summary['read']} leads rejected "
            f"({rate:.1%}) > --max-reject-rate {max_reject_rate:.1%}"
        )
    if drifted and fail_on_drift:
        raise DriftError(f"PSI above {drift_threshold} in {drifted}; see the drift file")
    return summary


def _events_of(
    events: pd.DataFrame, lead_ids: pd.Series, scorer: Scorer
) -> tuple[pd.DataFrame, int]:
    """Keep the events of the leads being scored.

    A nightly event log covers every lead, not just tonight's table: events of other leads are
    not errors, only irrelevant, so they are counted as skipped rather than quarantined.
    """
    column = scorer.schema.events.get("lead_id", "lead_id")
    if column not in events:
        return events, 0  # validation names the missing column
    mine = events[column].astype("str").isin(lead_ids)
    return events[mine], int((~mine).sum())


def upsert_scores(scores: pd.DataFrame, out_path: Path) -> int:
    """Write tonight's scores over an existing scores table, keyed by ``lead_id``.

    A rerun of the same night replaces its rows instead of duplicating them, and leads scored on
    an earlier night but absent tonight keep their last score. The table is written to a
    temporary file and moved into place, so a crash leaves the previous table intact. Returns the
    number of rows kept from the existing table.
    """
    if out_path.exists():
        earlier = read_table(out_path)
        earlier = earlier[~earlier["lead_id"].astype("str").isin(scores["lead_id"])]
        earlier = earlier.astype(
            {"as_of": scores["as_of"].dtype, "scored_at": scores["scored_at"].dtype}
        )
        combined = pd.concat([earlier, scores], ignore_index=True) if len(earlier) else scores
    else:
        earlier, combined = scores.iloc[:0], scores
    write_table(combined, out_path)
    return len(earlier)
