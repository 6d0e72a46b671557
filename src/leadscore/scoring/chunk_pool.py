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
cores (more OpenMP threads than cores only contend for them). The run
reads chunks of ``chunk_size / workers`` leads and keeps at most ``workers + 1`` of them in
flight, so memory is bounded by the chunk size. A worker that dies fails the run with
:class:`WorkerError`; nothing is committed, so the previous tables stay.
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

    def map(
        self, chunks: Iterable[CheckedChunk], as_of: pd.Timestamp
    ) -> Iterator[tuple[CheckedChunk, Scored]]:
        pending: deque[tuple[CheckedChunk, Future[Scored]]] = deque()
        source = iter(chunks)
        try:
            while True:
                for chunk in source:
                    args = (chunk.leads, chunk.events, as_of)
                    pending.append((chunk, self.executor.submit(_score_in_worker, *args)))
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


def _score(scorer: Scorer, leads: pd.DataFrame, events: pd.DataFrame | None,
           as_of: pd.Timestamp) -> Scored:  # fmt: skip
    tally = Tally()
    scores, rejected = score_valid(scorer, leads, events, as_of=as_of, tally=tally)
    return scores, rejected, tally


def _load_in_worker(bundle: Path, model_version: str, threads: int, run: int) -> None:
    threading.Thread(target=_exit_with, args=(run,), daemon=True).start()
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
