"""Nightly batch scoring: every input row is scored or quarantined, and the counts reconcile.

The lead table is read in chunks and each chunk fetches only its own leads' events, so memory is
bounded by ``chunk_size`` whatever the table's size. Scores and quarantine are staged and
committed at the end (see :mod:`leadscore.tables`): a run that dies leaves last night's tables.
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.drift import bin_counts, psi
from leadscore.errors import DriftError, EmptyInputError, RejectRateError
from leadscore.io import write_json
from leadscore.progress import progress
from leadscore.scorer import SCORE_COLUMNS, TOP_BAND, Scorer
from leadscore.tables import (
    RowLookup,
    TableRef,
    count_rows,
    open_writer,
    read_chunks,
    row_lookup,
)
from leadscore.validation import (
    QUARANTINE_COLUMNS,
    SeenIds,
    validate_events,
    validate_leads,
)

log = logging.getLogger(__name__)
FUTURE_TOLERANCE_HOURS = 0.0  # at scoring time, nothing may come from after the as-of moment


DEFAULT_CHUNK_SIZE = 100_000
QUARANTINE_SUFFIX = "_quarantine"


@dataclass
class Tally:
    """What the chunks add up to: the run summary's counts and the drift bins."""

    read: int = 0
    scored: int = 0
    quarantined: int = 0
    events_read: int = 0
    events_quarantined: int = 0
    bands: Counter = field(default_factory=Counter)
    drift: dict[str, np.ndarray] = field(default_factory=dict)
    seen: SeenIds = field(default_factory=SeenIds)

    def add(self, other: Tally) -> None:
        """Add another part's counts (a partition scored elsewhere); lead ids are not merged."""
        for name in ("read", "scored", "quarantined", "events_read", "events_quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.bands.update(other.bands)
        for column, count in other.drift.items():
            self.drift[column] = self.drift.get(column, 0) + count


def score_tables(
    scorer: Scorer,
    leads: TableRef,
    events: TableRef | None,
    out: TableRef,
    as_of: pd.Timestamp,
    max_reject_rate: float,
    drift_threshold: float = 0.25,
    fail_on_drift: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict:
    """Score the lead table as of ``as_of``; leads created after it do not exist yet then.

    Tonight's scores are upserted by ``lead_id`` into ``out``; the quarantine replaces the
    previous one next to it. When more than ``max_reject_rate`` of the leads are rejected the
    quarantine is written but the scores are not: last night's table stays for sales to use.
    """
    total = count_rows(leads)
    tally = Tally()
    empty_scores = pd.DataFrame({c: pd.Series(dtype="str") for c in SCORE_COLUMNS})
    empty_quarantine = pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS})
    scores_out = open_writer(out, empty_scores, key="lead_id")
    quarantine_out = open_writer(out.sibling(QUARANTINE_SUFFIX), empty_quarantine, key=None)
    event_column = scorer.schema.events.get("lead_id", "lead_id")
    with ExitStack() as stack:
        stack.callback(scores_out.discard)  # after a commit there is nothing left to discard
        stack.callback(quarantine_out.discard)
        lookup, events_total = (
            stack.enter_context(row_lookup(events, event_column)) if events else (None, 0)
        )
        bar = stack.enter_context(progress(total, "leads", f"scoring {leads}"))
        for chunk in read_chunks(leads, chunk_size):
            scores, rejected = score_chunk(scorer, chunk, lookup, as_of, tally)
            if len(scores):
                scores_out.append(scores)
            quarantine_out.append(rejected)
            bar.update(len(chunk))
        if tally.read == 0:
            raise EmptyInputError(f"{leads}: the lead table is empty, there is nothing to score")
        quarantine_out.commit()
        summary = summarize(tally, leads, out, events_total if events else None, as_of,
                            max_reject_rate)  # fmt: skip
        summary["kept_from_earlier_runs"] = scores_out.commit()
    check_drift(scorer, tally, out, summary, drift_threshold, fail_on_drift)
    return summary


def summarize(
    tally: Tally,
    leads: TableRef,
    out: TableRef,
    events_total: int | None,
    as_of: pd.Timestamp,
    max_reject_rate: float,
) -> dict:
    """The run summary; raise when the counts do not reconcile or too many leads were rejected.

    ``events_total`` is the event log's size (None without a log): events not read are skipped.
    """
    summary = {
        "leads": str(leads),
        "out": str(out),
        "read": tally.read,
        "scored": tally.scored,
        "quarantined": tally.quarantined,
        "events_read": tally.events_read,
        "events_quarantined": tally.events_quarantined,
        "events_skipped": 0 if events_total is None else events_total - tally.events_read,
        "bands": {str(k): int(v) for k, v in sorted(tally.bands.items())},
        "as_of": str(as_of),
    }
    if summary["read"] != summary["scored"] + summary["quarantined"]:
        raise AssertionError(f"batch counts do not reconcile: {summary}")
    rate = summary["quarantined"] / summary["read"]
    if rate > max_reject_rate:
        raise RejectRateError(
            f"{summary['quarantined']} of {summary['read']} leads rejected ({rate:.1%}) > "
            f"--max-reject-rate {max_reject_rate:.1%}; the quarantine is written, the "
            "scores are not (the previous scores table is unchanged)"
        )
    return summary


def score_chunk(
    scorer: Scorer,
    chunk: pd.DataFrame,
    lookup: RowLookup | None,
    as_of: pd.Timestamp,
    tally: Tally,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate, featurize and score one chunk; add its counts to ``tally``."""
    leads = validate_leads(chunk, scorer.schema, as_of, FUTURE_TOLERANCE_HOURS, tally.seen)
    rejected = [leads.quarantine]
    events = None
    if lookup is not None and len(leads.valid):
        ids = leads.valid["lead_id"]
        raw = lookup(ids.tolist())
        # events after the as-of moment are valid, only not yet known then (features skip them)
        now = pd.Timestamp.now(tz="UTC")
        checked = validate_events(raw, scorer.schema, ids, now, FUTURE_TOLERANCE_HOURS)
        events = checked.valid
        rejected.append(checked.quarantine.assign(reason="event:" + checked.quarantine["reason"]))
        tally.events_read += len(raw)
        tally.events_quarantined += len(checked.quarantine)
    quarantine = pd.concat(rejected, ignore_index=True)[QUARANTINE_COLUMNS].astype("str")
    tally.read += leads.n_input
    tally.quarantined += len(leads.quarantine)
    if leads.valid.empty:
        return leads.valid, quarantine
    features = scorer.features(leads.valid, events, as_of)
    scores = scorer.score_features(features, explain_bands=TOP_BAND)
    tally.scored += len(scores)
    tally.bands.update(scores["band"].tolist())
    if scorer.drift_reference is not None:
        counts = bin_counts(
            scorer.drift_reference, features.assign(probability=scores["probability"].to_numpy())
        )
        for column, count in counts.items():
            tally.drift[column] = tally.drift.get(column, 0) + count
    return scores, quarantine


def check_drift(
    scorer: Scorer,
    tally: Tally,
    out: TableRef,
    summary: dict,
    threshold: float,
    fail: bool,
) -> None:
    """PSI of tonight's table against the training profile: into the summary and a JSON file."""
    if scorer.drift_reference is None or not tally.drift:
        return
    summary["drift_psi"] = {
        k: round(v, 4) for k, v in psi(scorer.drift_reference, tally.drift).items()
    }
    write_json(summary["drift_psi"], drift_path(out))
    drifted = sorted(k for k, v in summary["drift_psi"].items() if v > threshold)
    if drifted:
        log.warning("drift above PSI %.2f in: %s", threshold, ", ".join(drifted))
        if fail:
            raise DriftError(f"PSI above {threshold} in {drifted}; see {drift_path(out)}")


def drift_path(out: TableRef) -> Path:
    """The drift JSON beside a file output, or ``<table>_drift.json`` in the working folder."""
    if out.kind in ("parquet", "csv"):
        path = Path(out.location)
        return path.with_name(f"{path.stem}_drift.json")
    return Path(f"{out.table}_drift.json")
