"""The runs table: one row per scoring night, beside the scores, so drift has a history.

A nightly run overwrites ``<out>_drift.json``; the runs table keeps what each night saw. Its key
is the *night*: the UTC calendar date of the run's as-of moment (``--as-of``, default now). Two
runs whose as-of moments fall on the same UTC date are the same night, and the later replaces
the earlier's row, as a rerun of a failed night should. The row is committed through the batch
writer (:mod:`leadscore.data.writers`) once the scores are committed: a run killed before that
leaves the previous runs table as it was, and a run refused before publishing its scores (too
many leads rejected, an empty table) adds no row. The writer is opened (locked, checked
writable) with the scores' before any lead is read: a runs table that cannot be written stops
the night before it publishes anything.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.data.tables import TableRef
from leadscore.data.writers import TableWriter, open_writer
from leadscore.modeling.thresholds import BANDS
from leadscore.scoring.options import ScoringOptions
from leadscore.scoring.registry import alias_of

RUNS_SUFFIX = "_runs"
KEY = "night"
DECILES: tuple[int, ...] = tuple(range(10, 100, 10))
COUNTS: tuple[str, ...] = ("read", "scored", "quarantined", "events_read", "events_quarantined")


def runs_ref(out: TableRef) -> TableRef:
    """The runs table beside a scores table: ``<out>_runs`` of the same kind; beside a Dask
    scores folder, ``<folder>_runs.parquet``."""
    if out.kind not in ("parquet", "csv"):
        return out.sibling(RUNS_SUFFIX)
    path = Path(out.location)
    suffix = path.suffix or ".parquet"
    return TableRef(suffix.lstrip("."), str(path.with_name(f"{path.stem}{RUNS_SUFFIX}{suffix}")))


def night_of(as_of: pd.Timestamp) -> str:
    """The night a scoring moment belongs to: its UTC calendar date, ``YYYY-MM-DD``."""
    moment = pd.Timestamp(as_of)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return moment.date().isoformat()


def score_deciles(counts: Counter) -> list[float]:
    """The 10th to 90th percentiles of the 0-100 score from its counts (inverted CDF: the
    smallest score with at least that share of leads at or below it); NaN without leads."""
    if not counts:
        return [float("nan")] * len(DECILES)
    scores = np.array(sorted(counts), dtype="float64")
    cumulative = np.cumsum([counts[s] for s in sorted(counts)])
    wanted = np.array(DECILES) / 100 * cumulative[-1]
    return scores[np.searchsorted(cumulative, wanted - 1e-9 * cumulative[-1])].tolist()


def run_row(
    summary: dict, score_counts: Counter, *, model_version: str, options: ScoringOptions
) -> pd.DataFrame:
    """The runs table's row of one run, from its summary (counts, bands, PSI) and score counts.

    PSI of every profiled column goes in ``drift_psi`` as JSON text (the columns are the model's
    top features, so they differ between models); the score's own PSI also has a column.
    """
    scored = max(summary["scored"], 1)
    psi = summary.get("drift_psi", {})
    row: dict[str, object] = {
        KEY: night_of(options.as_of),
        "as_of": options.as_of,
        "finished_at": pd.Timestamp.now(tz="UTC"),
        "engine": str(summary.get("engine", "local")),
        "model": options.model,
        "alias": alias_of(options.model) or "",
        "model_version": str(model_version),
        "out": str(summary["out"]),
    }
    row |= {name: int(summary[name]) for name in COUNTS}
    row |= {f"share_{b}": summary["bands"].get(b, 0) / scored for b in BANDS}
    row |= {f"score_p{d}": v for d, v in zip(DECILES, score_deciles(score_counts), strict=True)}
    row["psi_probability"] = float(psi.get("probability", np.nan))
    row["drift_psi"] = json.dumps(psi, sort_keys=True)
    return pd.DataFrame([row])


def open_runs(out: TableRef) -> TableWriter:
    """The writer of the runs table beside ``out``, locked and checked writable."""
    return open_writer(runs_ref(out), empty_runs(), key=KEY)


def empty_runs() -> pd.DataFrame:
    """The runs table without a row: the columns of a night's row, from a night of nothing."""
    nothing = {"out": "", "bands": {}, **dict.fromkeys(COUNTS, 0)}
    row = run_row(nothing, Counter(), model_version="", options=ScoringOptions(workers=1))
    return row.iloc[:0]


def record_run(
    summary: dict,
    score_counts: Counter,
    *,
    runs: TableWriter,
    model_version: str,
    options: ScoringOptions,
) -> None:
    """Upsert tonight's row through ``runs`` (see :func:`open_runs`); its URI goes in the
    summary."""
    runs.append(run_row(summary, score_counts, model_version=model_version, options=options))
    runs.commit()
    summary["runs"] = str(runs.ref)
