"""Nightly batch scoring on a Dask cluster, for lead tables larger than one machine.

Each leads file of a table partitioned by lead id (see :mod:`leadscore.data.partitions`) is one Dask
task: it reads its file chunk by chunk, fetches the chunk's events from the events files of its
id range only, and scores with :func:`leadscore.scoring.chunk.score_chunk`, the function the
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

from leadscore.data.files import check_writable
from leadscore.data.lookups import parquet_lookup
from leadscore.data.partitions import check_partitioned, events_files, read_partitions
from leadscore.data.staging import STAGING, Place, acquire, lock_path
from leadscore.data.tables import TableRef, read_chunks
from leadscore.data.validation import SeenIds
from leadscore.data.writers import open_writer, unwritable
from leadscore.errors import EmptyInputError
from leadscore.monitoring.runs import open_runs, record_run
from leadscore.progress import progress
from leadscore.scoring.artifact import load_scorer
from leadscore.scoring.batch import (
    QUARANTINE_SUFFIX,
    check_drift,
    drift_path,
    empty_quarantine,
    empty_scores,
    summarize,
)
from leadscore.scoring.chunk import Tally, score_chunk
from leadscore.scoring.options import ScoringOptions
from leadscore.scoring.scorer import Scorer

log = logging.getLogger(__name__)


class ScorerPlugin(WorkerPlugin):
    """Loads the exported scorer once in each worker process, as the worker starts (or joins).

    The artifact's path must be readable from every worker (a shared or network file system).
    The plugin's name says which artifact files it loaded, so a later run on the same cluster
    reuses a loaded scorer, and a re-exported artifact is loaded afresh.
    """

    idempotent = True

    def __init__(self, artifact: str | Path) -> None:
        self.artifact = str(Path(artifact).resolve())
        files = sorted(p for p in Path(self.artifact).rglob("*") if p.is_file())
        stamp = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        self.name = f"leadscore-scorer-{hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]}"
        self.scorer: Scorer | None = None

    def setup(self, worker) -> None:
        self.scorer = load_scorer(self.artifact)


@dataclass(frozen=True)
class _Partition:
    """One task: a leads file, the events files of its id range, and where its output goes."""

    leads: str
    events: tuple[str, ...]
    scores: str
    quarantine: str
    rows: int


def score_partitioned(
    artifact: str | Path,
    leads: str,
    events: str | None,
    out: str,
    *,
    options: ScoringOptions,
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
    scorer = load_scorer(artifact)  # here too: the schema, the drift profile, an early failure
    plan = _plan(scorer, leads, events, out)
    with ExitStack() as stack:
        for target in plan.targets:  # one run at a time writes these folders
            ref = TableRef("parquet", str(target))
            with unwritable(ref):
                lock = acquire(ref, Place(_staging(target), lock_path(target)))
            stack.callback(lock.release)
        runs_out = open_runs(TableRef("parquet", out))  # checked before any work, as
        stack.callback(runs_out.discard)  # the drift file is
        if scorer.drift_reference is not None:
            check_writable(drift_path(TableRef("parquet", out)))
        for folder in plan.staged:
            shutil.rmtree(folder, ignore_errors=True)  # left by a run that was killed
            folder.mkdir(parents=True)
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
        client = client or stack.enter_context(dask_client(scheduler))
        tally, workers = _run_tasks(client, artifact, plan.tasks, leads=leads, options=options)
        if tally.read == 0:
            raise EmptyInputError(f"{leads}: the lead table is empty, there is nothing to score")
        _publish(plan.staged[1], plan.targets[1])
        summary = summarize(
            tally, leads=leads, out=out, events_total=plan.events_total, options=options
        )
        _publish(plan.staged[0], plan.targets[0])
        summary |= {"kept_from_earlier_runs": 0, "engine": "dask", "partitions": len(plan.tasks)}
        summary["workers"] = workers
        try:
            check_drift(scorer, tally, out=TableRef("parquet", out), summary=summary,
                        options=options)  # fmt: skip
        finally:  # the scores are published: the night is recorded, drift or not
            record_run(summary, tally.scores, runs=runs_out, model_version=scorer.model_version,
                       options=options)  # fmt: skip
    return summary


@dataclass(frozen=True)
class _Plan:
    tasks: list[_Partition]
    staged: tuple[Path, Path]  # scores and quarantine staging folders
    targets: tuple[Path, Path]  # and the folders they replace
    events_total: int | None  # rows of the event log (None without one)


def _plan(scorer: Scorer, leads: str, events: str | None, out: str) -> _Plan:
    """One task per leads file, with the events files of its id range; the layout checked."""
    lead_parts = read_partitions(leads, scorer.schema.leads.get("lead_id", "lead_id"))
    check_partitioned(lead_parts, f"the lead table {leads}")
    event_column = scorer.schema.events.get("lead_id", "lead_id")
    event_parts = read_partitions(events, event_column) if events else []
    matches = events_files(lead_parts, event_parts) if events else [[] for _ in lead_parts]
    targets = (Path(out), Path(str(TableRef("parquet", out).sibling(QUARANTINE_SUFFIX))))
    staged = (_staging(targets[0]), _staging(targets[1]))
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
    events_total = sum(p.rows for p in event_parts) if events else None
    return _Plan(tasks, staged, targets, events_total)


def _run_tasks(
    client: Client,
    artifact: str | Path,
    tasks: list[_Partition],
    *,
    leads: str,
    options: ScoringOptions,
) -> tuple[Tally, int]:
    """Score every task on the cluster; the tallies added up, and the number of workers."""
    plugin = ScorerPlugin(artifact)
    client.register_plugin(plugin)
    workers = len(client.scheduler_info()["workers"])
    log.info(
        "scoring %d partitions on %d Dask workers (dashboard: %s)",
        len(tasks),
        workers,
        client.dashboard_link,
    )
    futures = client.map(
        _score_partition,
        tasks,
        plugin=plugin.name,
        as_of=options.as_of,
        chunk_size=options.chunk_size,
        pure=False,
    )
    rows = {future.key: task.rows for future, task in zip(futures, tasks, strict=True)}
    tally = Tally()
    with progress(sum(rows.values()), "leads", f"scoring {leads} on {workers} workers") as bar:
        for future in as_completed(futures):
            tally.add(future.result())  # a task's error is raised here, with its own type
            bar.update(rows[future.key])
    return tally, workers


def _score_partition(
    task: _Partition, *, plugin: str, as_of: pd.Timestamp, chunk_size: int
) -> Tally:
    """Score one leads file on a worker; its tally goes back to the client (without lead ids)."""
    loaded = get_worker().plugins[plugin]
    assert isinstance(loaded, ScorerPlugin) and loaded.scorer is not None
    scorer = loaded.scorer
    column = scorer.schema.events.get("lead_id", "lead_id")
    lookup = parquet_lookup(task.events, column) if task.events else None
    Path(task.scores).parent.mkdir(parents=True, exist_ok=True)
    Path(task.quarantine).parent.mkdir(parents=True, exist_ok=True)
    # the run holds the lock of the folders these files are staged in
    scores_out = open_writer(
        TableRef("parquet", task.scores), empty_scores(), key=None, exclusive=False
    )
    quarantine_out = open_writer(
        TableRef("parquet", task.quarantine),
        empty_quarantine(),
        key=None,
        personal=True,
        exclusive=False,
    )
    tally = Tally()
    try:
        for chunk in read_chunks(TableRef("parquet", task.leads), chunk_size):
            scores, rejected = score_chunk(scorer, chunk, lookup, as_of=as_of, tally=tally)
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
