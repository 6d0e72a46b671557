"""Helpers shared by the end-to-end tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from leadscore.data.tables import parse_table_uri
from leadscore.data.writers import open_writer

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TABLE_KINDS = ["parquet", "csv", "duckdb", "sqlite"]  # every kind of table without a server


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


def write_in_chunks(uri: str, frame: pd.DataFrame, key: str | None = "lead_id") -> int:
    """Write ``frame`` through the batch writer two rows at a time, as a nightly run appends;
    the number of earlier rows kept."""
    writer = open_writer(parse_table_uri(uri), frame.iloc[:0], key)
    for start in range(0, len(frame), 2):
        writer.append(frame.iloc[start : start + 2])
    return writer.commit()


def _not_json(word: str) -> None:
    raise ValueError(f"{word} is not JSON (RFC 8259 has no NaN or Infinity)")


def strict_json(text: str) -> object:
    """Parse JSON as a strict parser does: Python's own accepts NaN and Infinity, JSON does not."""
    return json.loads(text, parse_constant=_not_json)
