"""Columns as numpy arrays, and turning free text from forms into comparable values.

The feature families work on a table's columns as plain numpy arrays (text as ``object`` arrays
with ``None`` for missing), not on pandas objects: a pandas call costs tens of microseconds
whatever its size, which made one online lead cost milliseconds, while a numpy call on one value
costs about a microsecond and stays vectorised for a nightly table. Text goes through
:func:`per_distinct`, so each distinct string is transformed once by a plain Python function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SMALL_INPUT = 64  # values up to which per_distinct looks them up in a dict
# A table as its columns: a DataFrame qualifies, and so does a dict of numpy arrays.
Columns = Mapping[str, Any]


def column(table: Columns, name: str) -> np.ndarray:
    """One column as a numpy array (text as objects, missing as None or NaN)."""
    return as_array(table[name])


def n_rows(table: Columns) -> int:
    """How many rows a table of columns has (0 without columns)."""
    if isinstance(table, pd.DataFrame):
        return len(table)
    return len(next(iter(table.values()), ()))


def as_array(values: object) -> np.ndarray:
    """A pandas Series or a sequence as a numpy array."""
    return values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)


def utc_moments(values: object) -> np.ndarray:
    """Moments as naive UTC ``datetime64`` in their own unit (numpy arithmetic on them then
    gives the same numbers as pandas did on the time-zone-aware column)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values
    return pd.to_datetime(pd.Series(values), utc=True).dt.tz_localize(None).to_numpy()


def positions(ids: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """Where each id stands among ``distinct`` ids, -1 if absent (the first if repeated).

    Arrow's hash kernel does what ``Index.get_indexer`` does, several times faster on tens of
    millions of text ids, and in microseconds on a few.
    """
    if len(ids) <= SMALL_INPUT and len(distinct) <= SMALL_INPUT:  # see per_distinct
        first: dict[object, int] = {}
        for i, value in enumerate(_plain(distinct)):
            first.setdefault(value, i)
        return np.array([first.get(v, -1) for v in _plain(ids)], dtype=np.int64)
    found = pc.index_in(_text(ids), value_set=_text(distinct))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _plain(ids: np.ndarray) -> np.ndarray:
    return ids if ids.dtype == object else ids.astype("str").astype(object)


def _text(ids: np.ndarray) -> pa.Array:
    return pa.array(_plain(ids), pa.string(), from_pandas=True)


def per_distinct(
    values: np.ndarray, func: Callable[[Any], object], missing: object = None
) -> np.ndarray:
    """Apply an expensive per-value function once per distinct non-missing value.

    Lead tables repeat the same user agents, titles and domains many times; parsing each
    distinct string once keeps a million-row table cheap. Missing values give ``missing``.
    A few values (an online request) go through a dict: ``pandas.factorize`` costs tens of
    microseconds a call whatever the size, and this runs dozens of times per lead. Both find
    the same distinct values.
    """
    if len(values) <= SMALL_INPUT:
        results: dict[object, object] = {}
        out = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):
            if _is_missing(value):
                out[i] = missing
            else:
                if value not in results:
                    results[value] = func(value)
                out[i] = results[value]
        return out
    codes, distinct = pd.factorize(values)
    lookup = np.empty(len(distinct) + 1, dtype=object)
    lookup[:-1] = [func(v) for v in distinct]
    lookup[-1] = missing  # code -1
    return lookup[codes]


def missing(values: np.ndarray) -> np.ndarray:
    """``pandas.isna`` of an array, without its fixed cost per call on the few values of an
    online request (it runs dozens of times per lead); the same answer, as it tests what
    :func:`_is_missing` tests."""
    if values.dtype == object and len(values) <= SMALL_INPUT:
        return np.fromiter(map(_is_missing, values), dtype=bool, count=len(values))
    return pd.isna(values)


def _is_missing(value: object) -> bool:
    """What ``pandas.factorize`` leaves out: None, NaN, NA and NaT."""
    return value is None or value is pd.NA or value is pd.NaT or value != value


def clean_text(values: np.ndarray, placeholders: Iterable[str]) -> np.ndarray:
    """Trimmed text where a placeholder such as ``Select`` counts as not filled in."""
    blank = frozenset(placeholders)

    def clean(value: object) -> str | None:
        text = str(value).strip()
        return None if text in blank else text

    return per_distinct(values, clean)


def given(values: np.ndarray) -> np.ndarray:
    """1.0 where a value is present, 0.0 where it is missing."""
    return (~missing(values)).astype("float64")


def where_given(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Float ``values`` where ``mask`` holds, NaN elsewhere (pandas' ``Series.where``)."""
    return np.where(mask, values, np.nan)


def text_frame(columns: Mapping[str, np.ndarray], index: pd.Index | None = None) -> pd.DataFrame:
    """A frame of feature columns: text as pandas ``str`` (missing NaN), numbers as they are."""
    return pd.DataFrame(
        {
            name: pd.array(values, dtype="str") if values.dtype == object else values
            for name, values in columns.items()
        },
        index=index,
    )
