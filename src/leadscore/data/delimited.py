"""CSV files read strictly: every row tokenizes cleanly, or the file is refused with its lines.

A lenient parser (pandas', pyarrow's) reads a stray quote as the start of a quoted value and
swallows the lines after it into one cell, up to the next quote: the rows of ten leads vanish
into a cell and the counts still reconcile. Python's :mod:`csv` reader with ``strict=True``
refuses a quote that closes a value which then goes on, which is what a stray quote leads to,
and every row here must have as many values as the header. A value may still be quoted to hold
the delimiter, a quote (doubled) or a line break, as RFC 4180 allows.

Cells are text; an empty cell is missing. The file must be UTF-8 (a byte-order mark is
skipped). Anything else is an :class:`~leadscore.errors.InputError` (exit code 3) that names the
line, so the file can be fixed or exported again; a file without even a header line is empty
(exit code 6).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fsspec
import numpy as np
import pandas as pd

from leadscore.data.schema import require_unique_names
from leadscore.errors import EmptyInputError, InputError

MAX_CELL_CHARS = 1 << 28  # csv's own default (128 KiB) would refuse a long free-text cell
SHOWN_LINES = 5
# how an HTML or XML document starts: a page saved under a .csv name would otherwise read as a
# table of one column whose rows are lines of markup
MARKUP = ("<!doctype", "<html", "<?xml", "<head", "<body", "<!--")


def read_csv_chunks(location: str, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The file's rows, ``chunk_size`` at a time, every column as text (empty cells missing)."""
    with _rows(location) as (header, rows):
        while True:
            chunk = _next_rows(rows, len(header), chunk_size, location)
            if not chunk:
                return
            yield _frame(chunk, header)


def read_csv_header(location: str) -> list[str]:
    """The file's column names."""
    with _rows(location) as (header, _):
        return header


def read_csv(location: str) -> pd.DataFrame:
    """The whole file (as :func:`read_csv_chunks` reads it): for tables that fit in memory."""
    frames = list(read_csv_chunks(location, 1_000_000))
    if frames:
        return pd.concat(frames, ignore_index=True)
    return _frame([], read_csv_header(location))


@contextmanager
def _rows(location: str) -> Iterator[tuple[list[str], Any]]:
    """The header and a strict reader of the rows after it."""
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    try:
        opened = fsspec.open(location, "rb").open()
    except (OSError, ValueError) as exc:
        raise InputError(f"{location}: cannot be opened ({_reason(exc)})") from exc
    with opened, io.TextIOWrapper(opened, encoding="utf-8-sig", newline="") as text:
        rows = csv.reader(text, strict=True)
        header = _next_rows(rows, None, 1, location)
        if not header:
            raise EmptyInputError(f"{location}: the file is empty (not even a header line)")
        names = header[0]
        if names[0].lstrip().lower().startswith(MARKUP):
            raise InputError(
                f"{location}: a web page (HTML or XML), not a CSV file: a download that returned "
                "a login or error page? Export the table as CSV again"
            )
        require_unique_names(names, location, holder="the header")
        yield names, rows


def _next_rows(rows: Any, width: int | None, limit: int, location: str) -> list[list[str]]:
    """Up to ``limit`` non-blank rows of a :func:`csv.reader` (``Any``: typeshed names no public
    type for it); every one of them ``width`` values long (when given)."""
    out: list[list[str]] = []
    ragged: list[int] = []
    end = rows.line_num  # the last line of the row read last
    try:
        for row in rows:
            if width is not None and row and len(row) != width:
                ragged.append(rows.line_num)
            end = rows.line_num
            if row:  # not a blank line
                out.append(row)
                if len(out) == limit:
                    break
    except csv.Error as exc:
        raise InputError(
            f"{location}: the row that starts at line {end + 1} does not tokenize ({exc}, at "
            f"line {rows.line_num}): a stray quote? A quoted value must end with its quote, "
            "then a delimiter or the line's end; fix the file or export it again"
        ) from exc
    except UnicodeDecodeError as exc:
        line = _first_undecodable_line(location)
        raise InputError(
            f"{location}: not UTF-8 text (byte {exc.object[exc.start]:#04x} on line {line}); "
            "export it as UTF-8"
        ) from exc
    except OSError as exc:
        raise InputError(f"{location}: cannot be read ({_reason(exc)})") from exc
    if ragged:
        shown = ", ".join(str(n) for n in ragged[:SHOWN_LINES])
        more = f" and {len(ragged) - SHOWN_LINES} more" if len(ragged) > SHOWN_LINES else ""
        raise InputError(
            f"{location}: line(s) {shown}{more} do not have the header's {width} values; fix "
            "the file or export it again"
        )
    return out


def _first_undecodable_line(location: str) -> int:
    """The number of the first line that is not UTF-8 (the decoder reads ahead, so its own
    position does not say)."""
    with fsspec.open(location, "rb") as raw:
        for number, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _frame(rows: list[list[str]], header: list[str]) -> pd.DataFrame:
    columns = zip(*rows, strict=True) if rows else ([] for _ in header)
    data = {}
    for name, values in zip(header, columns, strict=True):
        text = np.array(values, dtype=object)
        text[text == ""] = None
        data[name] = pd.array(text, dtype="str")
    return pd.DataFrame(data, columns=header)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__
