"""Chunks of a nightly run scored in worker processes, their results taken back in read order.

Plain ``Booster.predict`` uses every core; a single scoring process one. Here the parent reads
each chunk, validates its leads and fetches their events (:func:`~leadscore.scoring.chunk.
check_chunk`, which must run in order), and worker processes featurize and score
(:func:`~leadscore.scoring.chunk.score_valid`). The parent writes the results in the order the
chunks were read, through the same writer as one process, so the tables are the same.

Each worker loads the exported bundle once (the compiled model included, from its object code)
in a process started by Python's ``forkserver``, which imports the scoring code once and forks
the workers from that clean process: forking the parent itself would copy its open database
connections and thread pools. Each worker's model and TreeSHAP calls take its share of the
cores (more OpenMP threads than cores only contend for them).

Memory follows the chunk size: the run keeps ``workers + 1`` chunks in flight (one queued, so
no worker waits for the parent to read and check the next) of ``chunk_size / (workers + 1)``
leads each, so the leads held at once, in the parent and the workers together, are about
``chunk_size`` whatever the worker count. Each process holds frames in proportion to its
chunk (a chunk's leads and events in the parent until its scores come back, its features and
TreeSHAP rows in a worker), so smaller chunks per process lower every process's peak. A chunk
waiting to be written keeps only what writing needs (its count and quarantine). A worker that
dies fails the run with :class:`WorkerError`; nothing is committed, so the previous tables stay.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa

from leadscore.errors import LeadscoreError
from leadscore.scoring.chunk import CheckedChunk, Tally, score_valid
from leadscore.scoring.options import usable_cores
from leadscore.scoring.scorer import Scorer

Scored = tuple[pd.DataFrame, pd.DataFrame, Tally]  # scores, rejected events, the chunk's counts
_WORKER_SCORER: list[Scorer] = []  # in a worker process: the scorer its initializer loaded


class WorkerError(LeadscoreError):
    """A scoring worker process died (killed, or out of memory): the run fails, nothing is
    written, and the previous tables stay."""


class InProcess:
    """Chunks scored one after another in this process (``--workers 1``)."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    def chunk_leads(self, chunk_size: int) -> int:
        """Leads per chunk read: the whole ``chunk_size``, one chunk being in flight."""
        return chunk_size

    def map(
        self, chunks: Iterable[CheckedChunk], as_of: pd.Timestamp
    ) -> Iterator[tuple[CheckedChunk, Scored]]:
        for chunk in chunks:
            yield chunk, _score(self.scorer, chunk.leads, chunk.events, as_of)


class WorkerPool:
    """Chunks scored in ``workers`` processes, yielded in the order they were given."""

    def __init__(self, executor: ProcessPoolExecutor, workers: int) -> None:
        self.executor = executor
        self.in_flight = workers + 1  # one queued beyond the busy workers: none waits for work

    def chunk_leads(self, chunk_size: int) -> int:
        """Leads per chunk read, so that the chunks in flight hold at most ``chunk_size`` (one
        each if it is smaller than their count)."""
        return max(1, chunk_size // self.in_flight)

    def map(
        self, chunks: Iterable[CheckedChunk], as_of: pd.Timestamp
    ) -> Iterator[tuple[CheckedChunk, Scored]]:
        pending: deque[tuple[CheckedChunk, Future[Scored]]] = deque()
        source = iter(chunks)
        try:
            while True:
                for chunk in source:
                    args = (chunk.leads, chunk.events, as_of)
                    submitted = self.executor.submit(_score_in_worker, *args)
                    pending.append((_to_write(chunk), submitted))
                    del args, chunk  # the executor holds the frames until the worker is done
                    if len(pending) >= self.in_flight:
                        break
                if not pending:
                    return
                chunk, submitted = pending.popleft()
                yield chunk, submitted.result()
        except BrokenProcessPool as exc:  # from submit or result, whichever comes first
            raise WorkerError(
                "a scoring worker process died or could not start (killed, out of memory, or "
                "the model failed to load in it?); nothing was written and the previous tables "
                "are unchanged: rerun, with fewer --workers or a smaller --chunk-size if memory "
                "ran out (a worker that failed to start printed its error above)"
            ) from exc


@contextmanager
def chunk_scorers(scorer: Scorer, workers: int) -> Iterator[InProcess | WorkerPool]:
    """What scores the chunks of a run: this process for one worker or a scorer not loaded
    from a bundle folder, else a pool of ``workers`` processes, shut down on leaving."""
    if workers <= 1 or scorer.bundle is None:
        with system_allocator():
            yield InProcess(scorer)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["leadscore.scoring.chunk_pool"])
    executor = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_load_in_worker,
        initargs=(
            scorer.bundle,
            scorer.model_version,
            max(1, usable_cores() // workers),
            os.getpid(),
        ),
    )
    try:
        yield WorkerPool(executor, workers)
    finally:  # on an error, the chunks not yet started are dropped
        executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def system_allocator() -> Iterator[None]:
    """Arrow's buffers (pandas' text columns among them) from the C library's allocator while
    chunks are scored here; a worker process uses it throughout. Arrow's default, mimalloc,
    keeps freed pages for reuse, which raised each scoring process's peak for no time gained
    (figures: the docs' results page, batch scoring); the system allocator hands large blocks
    back when freed."""
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _score(scorer: Scorer, leads: pd.DataFrame, events: pd.DataFrame | None,
           as_of: pd.Timestamp) -> Scored:  # fmt: skip
    tally = Tally()
    scores, rejected = score_valid(scorer, leads, events, as_of=as_of, tally=tally)
    return scores, rejected, tally


def _to_write(chunk: CheckedChunk) -> CheckedChunk:
    """What the parent keeps of a chunk sent to a worker: its count and quarantine, not its
    leads and events (a chunk scored early may wait for an earlier one to be written)."""
    return replace(chunk, leads=chunk.leads.iloc[:0], events=None)


def _load_in_worker(bundle: Path, model_version: str, threads: int, run: int) -> None:
    threading.Thread(target=_exit_with, args=(run,), daemon=True).start()
    pa.set_memory_pool(pa.system_memory_pool())  # as system_allocator(), for the worker's life
    scorer = Scorer.load(bundle, model_version=model_version)
    _WORKER_SCORER.append(replace(scorer, threads=threads))


def _exit_with(run: int) -> None:
    """End this worker when the run's process ends. A scheduler that kills the run (SIGTERM,
    SIGKILL) kills only that process; its workers, children of the forkserver, would otherwise
    wait for work forever, each holding a model."""
    if not hasattr(os, "pidfd_open"):  # Linux only: elsewhere a killed run's workers stay
        return
    try:
        ended = os.pidfd_open(run)  # readable once the process has ended
    except ProcessLookupError:  # ended already
        os._exit(1)
    select.select([ended], [], [])
    os._exit(1)


def _score_in_worker(leads: pd.DataFrame, events: pd.DataFrame | None,
                     as_of: pd.Timestamp) -> Scored:  # fmt: skip
    return _score(_WORKER_SCORER[0], leads, events, as_of)
