"""Reading and writing tables by file suffix, with atomic writes so a crash leaves no half file;
JSON strictly as RFC 8259 has it."""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from leadscore.data.delimited import read_csv
from leadscore.errors import InputError, OutputError

KEPT_DIGITS = 10  # significant digits of a figure git keeps (see kept_figures)


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    if path.suffix == ".csv":
        return read_csv(str(path))
    raise InputError(f"{path}: unknown table format '{path.suffix}' (use .parquet or .csv)")


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    path = Path(path)
    with atomic_output(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            raise InputError(f"{path}: unknown table format '{path.suffix}'")


def write_json(data: Any, path: str | Path) -> None:
    path = Path(path)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(dumps_json(data, sort_keys=True) + "\n")


def dumps_json(data: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON text of ``data``: a missing or infinite number (NaN, inf) is ``null``.

    Python's ``json`` writes them as the bare words ``NaN`` and ``Infinity``, which no strict
    parser (JavaScript's ``JSON.parse``, ``jq``, most JSON libraries) accepts. Anything else
    JSON has no type for (a timestamp, a path) is written as its text.
    """
    return json.dumps(
        _finite(data), indent=indent, sort_keys=sort_keys, default=str, allow_nan=False
    )


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float and NaT replaced by None, numpy scalars as
    Python's."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy scalar
        value = value.item()
    if value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def kept_figures(value: Any, *, digits: int = KEPT_DIGITS) -> Any:
    """``value`` (JSON-like, or a frame) with every float rounded to ``digits`` significant
    digits: for the figures git keeps (metrics, plots, the validation summary). A sum in
    another order (threads, another CPU) moves the 16th digit of a figure, and a fresh clone's
    run must reproduce the committed files byte for byte, not nearly."""
    if isinstance(value, pd.DataFrame):
        floats = value.select_dtypes("float").columns
        return value.assign(**{c: value[c].map(lambda v: _significant(v, digits)) for c in floats})
    if isinstance(value, dict):
        return {k: kept_figures(v, digits=digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [kept_figures(v, digits=digits) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy scalar
        value = value.item()
    return _significant(value, digits) if isinstance(value, float) else value


def _significant(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}") if math.isfinite(value) else value


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def check_writable(path: Path) -> None:
    """Fail with :class:`OutputError` unless :func:`atomic_output` can write ``path``: its
    folder takes a new file. A run checks this before its work, not after publishing."""
    try:
        with atomic_output(path):
            pass  # the temporary file is removed, as after a failed write
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


@contextmanager
def atomic_output(path: Path) -> Iterator[str]:
    """Yield a temporary path beside ``path`` and move it into place only on success.

    The file is created with mode 0666 less the process umask, as ``open`` would create it
    (``tempfile.mkstemp`` makes it 0600): a model or report written here is readable by whoever
    the umask lets read it, e.g. a server running as another user.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:  # another writer drew the same name: draw again
            continue
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
