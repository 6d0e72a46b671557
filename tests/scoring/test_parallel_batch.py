"""Chunks scored in worker processes (``--workers``) give what one process gives, and a worker
that dies fails the run cleanly, leaving the previous tables.

Real processes, a real artifact, real Parquet, DuckDB and PostgreSQL outputs (in CI a missing
server fails the PostgreSQL case).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pytest
import sqlalchemy as sa

from leadscore.data.lookups import row_lookup
from leadscore.data.tables import parse_table_uri, read_all, read_chunks
from leadscore.scoring.artifact import load_scorer
from leadscore.scoring.batch import drift_path, score_tables
from leadscore.scoring.chunk import Tally, check_chunk
from leadscore.scoring.chunk_pool import chunk_scorers
from leadscore.scoring.options import ScoringOptions
from support import run
from support import score_command as _cli_score

pytestmark = pytest.mark.slow
AS_OF = pd.Timestamp("2026-10-01", tz="UTC")
POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
CHUNK = 70  # leads per chunk: several chunks per run, a duplicate two chunks apart


@pytest.fixture(scope="module")
def scorer(project):
    return load_scorer(project[0] / "models/lead_scorer")


@pytest.fixture(scope="module")
def inputs(project, tmp_path_factory) -> dict[str, str]:
    """500 demo leads with rejects of each side (a lead without id, an unparseable and a future
    creation time, a copy of a lead of an earlier chunk) and two malformed events, as Parquet."""
    root = project[0]
    folder = tmp_path_factory.mktemp("parallel-inputs")
    leads = pd.read_parquet(root / "data/raw/leads.parquet").head(500).reset_index(drop=True)
    leads = leads.astype({"created_at": "str"})
    leads.loc[3, "lead_id"] = None
    leads.loc[80, "created_at"] = "not a date"
    leads.loc[150, "created_at"] = "2027-01-01T00:00:00Z"
    leads = pd.concat([leads, leads.iloc[[5]]], ignore_index=True)  # chunk 8 copies chunk 1
    events = pd.read_parquet(root / "data/raw/events.parquet")
    events = events[events["lead_id"].isin(leads["lead_id"])].reset_index(drop=True)
    events = events.astype({"ts": "str"})
    events.loc[0, "ts"] = "garbage"
    events.loc[len(events) // 2, "event_type"] = None
    leads.to_parquet(folder / "leads.parquet")
    events.to_parquet(folder / "events.parquet")
    return {"leads": str(folder / "leads.parquet"), "events": str(folder / "events.parquet")}


def _out(kind: str, folder: Path, created: list[str]) -> str:
    if kind == "parquet":
        return str(folder / "scores.parquet")
    if kind == "duckdb":
        return f"duckdb:///{folder / 'crm.duckdb'}#scores"
    if not POSTGRES_URL:
        message = "LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    table = f"scores_{uuid.uuid4().hex[:8]}"
    created.extend([table, f"{table}_quarantine", f"{table}_runs", f"{table}__staging"])
    return f"{POSTGRES_URL}#{table}"


@pytest.fixture
def postgres_tables():
    created: list[str] = []
    yield created
    if POSTGRES_URL and created:
        with sa.create_engine(POSTGRES_URL).begin() as conn:
            for table in created:
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))


def _night(scorer, inputs: dict[str, str], out: str, workers: int) -> dict:
    """Score the inputs into ``out``; return the summary and every table the night wrote."""
    options = ScoringOptions(as_of=AS_OF, max_reject_rate=0.2, chunk_size=CHUNK, workers=workers)
    ref = parse_table_uri(out)
    refs = [parse_table_uri(inputs["leads"]), parse_table_uri(inputs["events"]), ref]
    summary = score_tables(scorer, *refs, options=options)
    runs = read_all(ref.sibling("_runs")).drop(columns=["finished_at", "out"])
    return {
        "summary": {k: v for k, v in summary.items() if k not in ("out", "runs")},
        "scores": read_all(ref).drop(columns="scored_at"),  # the moment each chunk was scored
        "quarantine": read_all(ref.sibling("_quarantine")),
        "drift": json.loads(drift_path(ref).read_text()),
        "runs": runs,
    }


@pytest.mark.parametrize("kind", ["parquet", "duckdb", "postgresql"])
def test_workers_write_exactly_what_one_process_writes(kind, scorer, inputs, tmp_path,
                                                        postgres_tables, monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)  # a database server's drift file goes to the working folder
    nights = {}
    for workers in (1, 3):
        folder = tmp_path / f"workers{workers}"
        folder.mkdir()
        nights[workers] = _night(scorer, inputs, _out(kind, folder, postgres_tables), workers)
    one, many = nights[1], nights[3]
    summary = one["summary"]
    assert summary["quarantined"] == 4 and summary["events_quarantined"] == 2  # rejects happened
    assert summary["read"] == 501 and summary["read"] > 5 * CHUNK
    assert many["summary"] == summary
    pd.testing.assert_frame_equal(many["scores"], one["scores"])  # same rows, same order
    pd.testing.assert_frame_equal(many["quarantine"], one["quarantine"])
    assert many["drift"] == one["drift"]
    pd.testing.assert_frame_equal(many["runs"], one["runs"])


def _grandchildren(pid: int) -> list[psutil.Process]:
    """The worker processes of a run: forked by its forkserver, a child of the run."""
    return [g for child in psutil.Process(pid).children() for g in child.children()]


@pytest.mark.parametrize("backend", ["parquet", "sqlite"])
def test_a_killed_worker_fails_the_night_and_leaves_the_previous_tables(backend, project,
                                                                        tmp_path):  # fmt: skip
    root, env = project
    folder = tmp_path / "out"
    folder.mkdir()
    out = str(folder / "scores.parquet") if backend == "parquet" else (
        f"sqlite:///{folder / 'crm.db'}#scores")  # fmt: skip
    run(_cli_score(root, out, "2026-10-01", 1000), folder, env)
    before = {s: read_all(parse_table_uri(out).sibling(s)) for s in ("", "_quarantine", "_runs")}
    night = subprocess.Popen(
        [*_cli_score(root, out, "2026-10-02", 20), "--workers", "2"], cwd=folder, env=env,
        text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    killed, processes = None, []
    for line in night.stderr:  # the first progress line: the workers are scoring
        if " leads of " in line:
            processes = psutil.Process(night.pid).children(recursive=True)
            killed = _grandchildren(night.pid)[0]
            killed.send_signal(signal.SIGKILL)
            break
    start = time.monotonic()
    code = night.wait(timeout=120)  # no hang
    stderr = night.stderr.read()
    assert killed is not None, "the run ended before a worker could be killed"
    assert time.monotonic() - start < 60
    assert code == 1, stderr
    assert "a scoring worker process died" in stderr and "Traceback" not in stderr
    assert stderr.count("\n") < 30  # one error line (progress lines aside)
    for suffix, table in before.items():
        pd.testing.assert_frame_equal(read_all(parse_table_uri(out).sibling(suffix)), table)
    _, alive = psutil.wait_procs(processes, timeout=30)
    assert not alive, f"processes of the failed run left behind: {alive}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_run_leaves_no_worker_behind(sig, project, tmp_path):
    """A scheduler stops a run by signalling its process only; its workers, the forkserver's
    children, must not wait for work forever, each holding a model."""
    root, env = project
    night = subprocess.Popen(
        [*_cli_score(root, str(tmp_path / "s.parquet"), "2026-10-02", 20), "--workers", "2"],
        cwd=tmp_path, env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    processes: list[psutil.Process] = []
    workers: list[psutil.Process] = []
    for line in night.stderr:
        if " leads of " in line:
            processes = psutil.Process(night.pid).children(recursive=True)
            workers = _grandchildren(night.pid)
            night.send_signal(sig)
            break
    assert night.wait(timeout=60) == -sig
    assert len(workers) == 2, "the workers were not running"
    _, alive = psutil.wait_procs(processes, timeout=30)
    assert not alive, f"processes of the killed run left behind: {alive}"


@pytest.mark.parametrize(("workers", "imported"), [(1, ["lleaves"]), (2, [])])
def test_what_the_scoring_process_imports(project, tmp_path, workers, imported):
    """MLflow costs seconds of every night to import, and a folder artifact does not need it.
    The compiled model (lleaves and LLVM) is loaded where leads are scored: in the process
    itself with one worker, only in the workers with more (the parent never predicts)."""
    root, env = project
    check = (
        "import sys; from leadscore.cli import app; "
        "sys.argv = ['leadscore', *sys.argv[1:]]; "
        "import atexit; "
        "atexit.register(lambda: print('IMPORTED', sorted({m.split('.')[0] for m in sys.modules} "
        "& {'mlflow', 'lleaves'}), file=sys.stderr)); "
        "app()"
    )
    cmd = [sys.executable, "-c", check, *_cli_score(root, "s.parquet", "2026-10-01", 1000)[1:]]
    done = run([*cmd, "--workers", str(workers)], tmp_path, env)
    assert json.loads(done.stdout)["scored"] > 0
    assert f"IMPORTED {imported}" in done.stderr


def test_chunks_are_scored_with_the_system_allocator(scorer):
    """Arrow's default allocator keeps freed pages for reuse; the processes that score chunks
    use the C library's, which hands them back (the night's peak memory, benchmarks/batch.py).
    A run in this process restores the allocator it found."""
    found = pa.default_memory_pool().backend_name
    with chunk_scorers(scorer, 1):
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == found
    with chunk_scorers(scorer, 2) as pool:
        name = "__import__('pyarrow').default_memory_pool().backend_name"
        assert pool.executor.submit(eval, name).result() == "system"


def test_the_chunks_in_flight_hold_at_most_chunk_size_leads(scorer, inputs):
    """Memory follows ``--chunk-size`` whatever the worker count: the leads read and not yet
    handed back, in the parent and the workers together, never exceed it, and a chunk handed
    back for writing no longer holds its leads and events."""
    leads, events = parse_table_uri(inputs["leads"]), parse_table_uri(inputs["events"])
    tally, held, peak = Tally(), [0], [0]
    with row_lookup(events, "lead_id") as (lookup, _), chunk_scorers(scorer, 3) as pool:
        size = pool.chunk_leads(CHUNK)
        assert size < CHUNK

        def checked():
            for chunk in read_chunks(leads, size):
                held[0] += len(chunk)
                peak[0] = max(peak[0], held[0])
                yield check_chunk(scorer, chunk, lookup, as_of=AS_OF, tally=tally)

        parts = []
        for chunk, (scores, _, _) in pool.map(checked(), AS_OF):
            held[0] -= chunk.read
            assert chunk.leads.empty and chunk.events is None
            parts.append(scores)
    assert held[0] == 0 and CHUNK - size < peak[0] <= CHUNK
    assert sum(len(s) for s in parts) == tally.read - tally.quarantined == 497
