"""Helpers shared by the end-to-end tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import requests

from leadscore.data.tables import parse_table_uri
from leadscore.data.writers import open_writer

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TABLE_KINDS = ["parquet", "csv", "duckdb", "sqlite"]  # every kind of table without a server
OUTPUT_KINDS = [*TABLE_KINDS, "postgresql"]  # and a database server (see postgres_url)
POSTGRES_URL_ENV = "LEADSCORE_TEST_POSTGRES_URL"


def run(cmd: list[str], cwd: Path, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command of the project; on failure show its output, which pytest would hide."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def table_uri(kind: str, folder: Path, name: str) -> str:
    """A table URI of one of :data:`TABLE_KINDS` in ``folder``."""
    if kind in ("parquet", "csv"):
        return str(folder / f"{name}.{kind}")
    if kind == "duckdb":
        return f"duckdb:///{folder / 'db.duckdb'}#{name}"
    return f"sqlite:///{folder / 'db.sqlite'}#{name}"


def postgres_url() -> str:
    """The test server's URL; without one this fails in CI and skips on a laptop."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        return url
    message = f"{POSTGRES_URL_ENV} is not set (.ci/run starts PostgreSQL and sets it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def write_in_chunks(uri: str, frame: pd.DataFrame, key: str | None = "lead_id") -> int:
    """Write ``frame`` through the batch writer two rows at a time, as a nightly run appends;
    the number of earlier rows kept."""
    writer = open_writer(parse_table_uri(uri), frame.iloc[:0], key)
    for start in range(0, len(frame), 2):
        writer.append(frame.iloc[start : start + 2])
    return writer.commit()


def score_command(root: Path, out: str, as_of: str, chunk_size: int) -> list[str]:
    """`leadscore score` of a pipeline project's raw demo tables with its artifact."""
    return ["leadscore", "score", "--model", str(root / "models/lead_scorer"),
            "--leads", str(root / "data/raw/leads.parquet"),
            "--events", str(root / "data/raw/events.parquet"),
            "--out", out, "--as-of", as_of, "--chunk-size", str(chunk_size)]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(
    argv: list[str], cwd: Path, env: dict, port: int, *, log: Path | None = None
) -> Iterator[subprocess.Popen]:
    """A server process on ``port`` of 127.0.0.1, once ``GET /health`` answers; stopped after.
    Its output goes to ``log`` when given."""
    output = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=output, stderr=output)
    try:
        for _ in range(240):
            if process.poll() is not None:
                raise AssertionError(f"{argv[:3]} exited with {process.returncode}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            raise AssertionError(f"{argv[:3]} did not come up")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        if log is not None:
            output.close()  # type: ignore[union-attr]


def _not_json(word: str) -> None:
    raise ValueError(f"{word} is not JSON (RFC 8259 has no NaN or Infinity)")


def strict_json(text: str) -> object:
    """Parse JSON as a strict parser does: Python's own accepts NaN and Infinity, JSON does not."""
    return json.loads(text, parse_constant=_not_json)


def json_files(root: Path) -> list[Path]:
    """Every JSON file under ``root`` that a pipeline run wrote (DVC's own folder aside)."""
    return sorted(p for p in root.rglob("*.json") if ".dvc" not in p.relative_to(root).parts)


@contextmanager
def api_server(
    root: Path, env: dict, keys: str | None, *, log: Path | None = None, extra: tuple = ()
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`leadscore serve` of a project's artifact as a real uvicorn process on a free port of
    127.0.0.1, with ``keys`` as its API keys (None: none, and --insecure-no-auth); yields its URL
    and the process."""
    port = free_port()
    env = {k: v for k, v in env.items() if k != "LEADSCORE_API_KEYS"}
    argv = ["leadscore", "serve", "--model", "models/lead_scorer", "--port", str(port),
            "--max-body-bytes", "200000", "--max-batch", "50", *extra]  # fmt: skip
    if keys is None:
        argv.append("--insecure-no-auth")
    with serving(argv, root, env | ({"LEADSCORE_API_KEYS": keys} if keys else {}), port,
                 log=log) as process:  # fmt: skip
        yield f"http://127.0.0.1:{port}", process


@contextmanager
def api_serving(root: Path, env: dict, keys: str | None) -> Iterator[str]:
    """:func:`api_server`'s URL."""
    with api_server(root, env, keys) as (url, _):
        yield url
