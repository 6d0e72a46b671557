"""Nightly batch scoring: every input row is scored or quarantined, and the counts reconcile.

The lead table is read in chunks and each chunk fetches only its own leads' events, so memory is
bounded by ``chunk_size`` whatever the table's size. Scores and quarantine are staged and
committed at the end (see :mod:`leadscore.data.tables`): a run that dies leaves last night's tables.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd

from leadscore.data.files import check_writable, write_json
from leadscore.data.lookups import row_lookup
from leadscore.data.staging import database_file, safe_name
from leadscore.data.tables import TableRef, count_rows, read_chunks
from leadscore.data.validation import QUARANTINE_COLUMNS
from leadscore.data.writers import TableWriter, open_writer
from leadscore.errors import DriftError, EmptyInputError, RejectRateError
from leadscore.monitoring.runs import open_runs, record_run
from leadscore.progress import progress
from leadscore.scoring.chunk import COUNTS, Tally, check_chunk, quarantine_of
from leadscore.scoring.chunk_pool import chunk_scorers
from leadscore.scoring.drift import psi
from leadscore.scoring.options import ScoringOptions
from leadscore.scoring.scorer import SCORE_DTYPES, Scorer

log = logging.getLogger(__name__)
QUARANTINE_SUFFIX = "_quarantine"


def score_tables(
    scorer: Scorer,
    leads: TableRef,
    events: TableRef | None,
    out: TableRef,
    *,
    options: ScoringOptions,
) -> dict:
    """Score the lead table as of ``options.as_of``; leads created after it did not exist yet.

    Tonight's scores are upserted by ``lead_id`` into ``out``; the quarantine replaces the
    previous one next to it. When more than ``options.max_reject_rate`` of the leads are
    rejected the quarantine is written but the scores are not: last night's table stays for
    sales to use.
    """
    total = count_rows(leads)
    tally = Tally()
    event_column = scorer.schema.events.get("lead_id", "lead_id")
    with ExitStack() as stack:
        scores_out, quarantine_out, runs_out = _writers(out, stack)
        if scorer.drift_reference is not None:
            check_writable(drift_path(out))
        lookup, events_total = (
            stack.enter_context(row_lookup(events, event_column)) if events else (None, 0)
        )
        bar = stack.enter_context(progress(total, "leads", f"scoring {leads}"))
        scorers = stack.enter_context(chunk_scorers(scorer, options.workers))
        # the chunks in flight together hold about chunk_size leads: memory follows chunk_size
        checked = (
            check_chunk(scorer, chunk, lookup, as_of=options.as_of, tally=tally)
            for chunk in read_chunks(leads, scorers.chunk_leads(options.chunk_size))
        )
        for chunk, (scores, rejected, part) in scorers.map(checked, options.as_of):
            tally.add(part)
            if len(scores):
                scores_out.append(scores)
            quarantine_out.append(quarantine_of(chunk.quarantine, rejected))
            bar.update(chunk.read)
        if tally.read == 0:
            raise EmptyInputError(f"{leads}: the lead table is empty, there is nothing to score")
        quarantine_out.commit()
        events_read = events_total if events else None
        summary = summarize(tally, leads=leads, out=out, events_total=events_read, options=options)
        summary["kept_from_earlier_runs"] = scores_out.commit()
        try:
            check_drift(scorer, tally, out=out, summary=summary, options=options)
        finally:  # the scores are published: the night is recorded, drift or not
            record_run(summary, tally.scores, runs=runs_out, model_version=scorer.model_version,
                       options=options)  # fmt: skip
    return summary


def _writers(out: TableRef, stack: ExitStack) -> tuple[TableWriter, TableWriter, TableWriter]:
    """The scores', the quarantine's and the runs table's writers, all locked and checked
    writable before any lead is read, each discarded at the end unless committed by then."""
    scores_out = open_writer(out, empty_scores(), key="lead_id")
    stack.callback(scores_out.discard)  # after a commit there is nothing left to discard
    quarantine = out.sibling(QUARANTINE_SUFFIX)
    quarantine_out = open_writer(quarantine, empty_quarantine(), key=None, personal=True)
    stack.callback(quarantine_out.discard)
    runs_out = open_runs(out)
    stack.callback(runs_out.discard)
    return scores_out, quarantine_out, runs_out


def empty_scores() -> pd.DataFrame:
    """The scores table without a row, its columns typed as scored rows are."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in SCORE_DTYPES.items()})


def empty_quarantine() -> pd.DataFrame:
    """The quarantine without a row."""
    return pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS})


def summarize(
    tally: Tally,
    *,
    leads: TableRef | str,
    out: TableRef | str,
    events_total: int | None,
    options: ScoringOptions,
) -> dict:
    """The run summary; raise when the counts do not reconcile or too many leads were rejected.

    ``events_total`` is the event log's size (None without a log): events not read are skipped.
    """
    summary: dict[str, Any] = {"leads": str(leads), "out": str(out)}
    summary |= {name: getattr(tally, name) for name in COUNTS}
    summary["events_skipped"] = 0 if events_total is None else events_total - tally.events_read
    summary["bands"] = {str(k): int(v) for k, v in sorted(tally.bands.items())}
    summary["as_of"] = str(options.as_of)
    if tally.read != tally.scored + tally.quarantined:
        raise AssertionError(f"batch counts do not reconcile: {summary}")
    rate = tally.quarantined / tally.read
    if rate > options.max_reject_rate:
        raise RejectRateError(
            f"{tally.quarantined} of {tally.read} leads rejected ({rate:.1%}) > "
            f"--max-reject-rate {options.max_reject_rate:.1%}; the quarantine is written, the "
            "scores are not (the previous scores table is unchanged)"
        )
    return summary


def check_drift(
    scorer: Scorer,
    tally: Tally,
    *,
    out: TableRef,
    summary: dict,
    options: ScoringOptions,
) -> None:
    """PSI of tonight's table against the training profile: into the summary and a JSON file."""
    if scorer.drift_reference is None or not tally.drift:
        return
    summary["drift_psi"] = {
        k: round(v, 4) for k, v in psi(scorer.drift_reference, tally.drift).items()
    }
    write_json(summary["drift_psi"], drift_path(out))
    threshold = options.drift_threshold
    drifted = sorted(k for k, v in summary["drift_psi"].items() if v > threshold)
    if drifted:
        log.warning("drift above PSI %.2f in: %s", threshold, ", ".join(drifted))
        if options.fail_on_drift:
            raise DriftError(f"PSI above {threshold} in {drifted}; see {drift_path(out)}")


def drift_path(out: TableRef) -> Path:
    """The drift JSON beside the output: beside a file (or folder), beside a DuckDB or SQLite
    database file as ``<table>_drift.json``, or so in the working folder for a database server.
    A table's name never leads out of that folder (``../x`` is written as ``..%2Fx``)."""
    if out.kind in ("parquet", "csv"):
        path = Path(out.location)
        return path.with_name(f"{path.stem}_drift.json")
    database = database_file(out)
    folder = database.parent if database is not None else Path()
    return folder / f"{safe_name(str(out.table))}_drift.json"
