"""Nightly batch scoring on a Dask cluster, for lead tables larger than one machine.

Each leads file of a table partitioned by lead id (see :mod:`leadscore.partitions`) is one Dask
task: it reads its file chunk by chunk, fetches the chunk's events from the events files of its
id range only, and scores with :func:`leadscore.batch.score_chunk`, the function the
single-machine path uses, so both give the same scores, quarantine and counts. The scorer is
loaded once per worker process by a worker plugin, not shipped inside every task.

Every task writes its scores and quarantine as one file each into hidden staging folders beside
the output; when every task has succeeded, the quarantine folder and then (unless too many leads
were rejected) the scores folder replace the previous ones. Each replacement is two renames
(previous folder aside, new folder in), so a run that fails or is killed while scoring leaves
last night's folders as they were; readers see either folder whole, but for the instant between
the two renames no folder at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker

from leadscore.artifact import load_scorer
from leadscore.batch import (
    DEFAULT_CHUNK_SIZE,
    QUARANTINE_SUFFIX,
    Tally,
    check_drift,
    score_chunk,
    summarize,
)
from leadscore.errors import EmptyInputError
from leadscore.partitions import check_partitioned, events_files, read_partitions
from leadscore.progress import progress
from leadscore.scorer import SCORE_COLUMNS, Scorer
from leadscore.tables import STAGING, TableRef, open_writer, parquet_lookup, read_chunks
from leadscore.validation import QUARANTINE_COLUMNS, SeenIds

log = logging.getLogger(__name__)


class ScorerPlugin(WorkerPlugin):
    """Loads the exported scorer once in each worker process, as the worker starts (or joins).

    The artifact's path must be readable from every worker (a shared or network file system).
    The plugin's name says which artifact files it loaded, so a later run on the same cluster
    reuses a loaded scorer, and a re-exported artifact is loaded afresh.
    """

    idempotent = True

    def __init__(self, model: str | Path) -> None:
        self.model = str(Path(model).resolve())
        files = sorted(p for p in Path(self.model).rglob("*") if p.is_file())
        stamp = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        self.name = f"leadscore-scorer-{hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]}"
        self.scorer: Scorer | None = None

    def setup(self, worker) -> None:
        self.scorer = load_scorer(self.model)


@dataclass(frozen=True)
class _Partition:
    """One task: a leads file, the events files of its id range, and where its output goes."""

    leads: str
    events: tuple[str, ...]
    scores: str
    quarantine: str
    rows: int


def score_partitioned(
    model: str | Path,
    leads: str,
    events: str | None,
    out: str,
    as_of: pd.Timestamp,
    max_reject_rate: float,
    drift_threshold: float = 0.25,
    fail_on_drift: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    client: Client | None = None,
    scheduler: str | None = None,
) -> dict:
    """Score a partitioned lead table on a Dask cluster; the summary of ``score_tables``.

    The cluster is ``client``'s, else the one at ``scheduler``, else a LocalCluster started once
    the tables' layout has been checked.

    ``leads`` and ``events`` are folders of Parquet files (or single files); ``out`` is a folder
    that gets one scores file per leads file with a scored lead, and ``<out>_quarantine`` one
    quarantine file per leads file.
    The scores folder is replaced, not upserted: ``kept_from_earlier_runs`` is always 0.
    """
    scorer = load_scorer(model)  # here too: the schema, the drift profile, and an early failure
    lead_parts = read_partitions(leads, scorer.schema.leads.get("lead_id", "lead_id"))
    check_partitioned(lead_parts, f"the lead table {leads}")
    event_parts = (
        read_partitions(events, scorer.schema.events.get("lead_id", "lead_id")) if events else []
    )
    matches = events_files(lead_parts, event_parts) if events else [[] for _ in lead_parts]
    target = Path(out)
    quarantine_target = Path(str(TableRef("parquet", out).sibling(QUARANTINE_SUFFIX)))
    staged = [_staging(target), _staging(quarantine_target)]
    tasks = [
        _Partition(
            part.path,
            # with an event log, a file whose range holds no event still gets one: an empty
            # lookup, exactly what the single-machine path gives a chunk without events
            tuple(found or ([event_parts[0].path] if events else [])),
            str(staged[0] / _parquet_name(part.relative)),
            str(staged[1] / _parquet_name(part.relative)),
            part.rows,
        )
        for part, found in zip(lead_parts, matches, strict=True)
    ]
    tally = Tally()
    with ExitStack() as stack:
        for folder in staged:
            shutil.rmtree(folder, ignore_errors=True)  # left by a run that was killed
            folder.mkdir(parents=True)
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
        client = client or stack.enter_context(dask_client(scheduler))
        plugin = ScorerPlugin(model)
        client.register_plugin(plugin)
        workers = len(client.scheduler_info()["workers"])
        log.info("scoring %d partitions on %d Dask workers (dashboard: %s)", len(tasks), workers,
                 client.dashboard_link)  # fmt: skip
        futures = client.map(
            _score_partition,
            tasks,
            plugin=plugin.name,
            as_of=as_of,
            chunk_size=chunk_size,
            pure=False,
        )
        rows = {future.key: task.rows for future, task in zip(futures, tasks, strict=True)}
        total = sum(rows.values())
        with progress(total, "leads", f"scoring {leads} on {workers} workers") as bar:
            for future in as_completed(futures):
                tally.add(future.result())  # a task's error is raised here, with its own type
                bar.update(rows[future.key])
        if tally.read == 0:
            raise EmptyInputError(f"{leads}: the lead table is empty, there is nothing to score")
        _publish(staged[1], quarantine_target)
        events_total = sum(p.rows for p in event_parts) if events else None
        summary = summarize(tally, leads, out, events_total, as_of, max_reject_rate)
        _publish(staged[0], target)
    summary |= {"kept_from_earlier_runs": 0, "engine": "dask", "partitions": len(tasks),
                "workers": workers}  # fmt: skip
    check_drift(scorer, tally, TableRef("parquet", out), summary, drift_threshold, fail_on_drift)
    return summary


def _score_partition(task: _Partition, plugin: str, as_of: pd.Timestamp, chunk_size: int) -> Tally:
    """Score one leads file on a worker; its tally goes back to the client (without lead ids)."""
    scorer = get_worker().plugins[plugin].scorer
    column = scorer.schema.events.get("lead_id", "lead_id")
    lookup = parquet_lookup(task.events, column) if task.events else None
    empty_scores = pd.DataFrame(columns=SCORE_COLUMNS)  # never written (see below)
    empty_quarantine = pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS})
    Path(task.scores).parent.mkdir(parents=True, exist_ok=True)
    Path(task.quarantine).parent.mkdir(parents=True, exist_ok=True)
    scores_out = open_writer(TableRef("parquet", task.scores), empty_scores, key=None)
    quarantine_out = open_writer(TableRef("parquet", task.quarantine), empty_quarantine, key=None)
    tally = Tally()
    try:
        for chunk in read_chunks(TableRef("parquet", task.leads), chunk_size):
            scores, rejected = score_chunk(scorer, chunk, lookup, as_of, tally)
            if len(scores):
                scores_out.append(scores)
            quarantine_out.append(rejected)
        if tally.scored:  # no file for a partition without scores: an empty one has no types
            scores_out.commit()
        quarantine_out.commit()
    finally:
        scores_out.discard()
        quarantine_out.discard()
    tally.seen = SeenIds()  # duplicates are found within a partition; the ids stay on the worker
    return tally


def _parquet_name(relative: str) -> str:
    """The output file's name: the input's, ending in ``.parquet`` (Spark's often do not)."""
    return relative if relative.endswith(".parquet") else f"{relative}.parquet"


def _staging(target: Path) -> Path:
    return target.with_name(f".{target.name}{STAGING}")


def _publish(staged: Path, target: Path) -> None:
    """Put a finished folder in place of ``target``: previous folder aside, new one in."""
    previous = target.with_name(f".{target.name}{STAGING}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        os.replace(target, previous)
    os.replace(staged, target)
    shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def dask_client(scheduler: str | None) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster sized to this machine."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster() as cluster, Client(cluster) as client:
        yield client
