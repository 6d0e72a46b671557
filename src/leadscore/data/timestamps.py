"""The one home of timestamp parsing: every timestamp column of every table is read here.

A date is read one way, the declared one or the only one it has, never guessed. pandas'
``format="mixed"`` reads ``01-02-2018`` month-first and ``13-02-2018`` day-first in the same
column, without a word; that is how a third of a table's dates were once silently wrong. Here:

- datetime columns (Parquet, databases) are taken as they are; naive ones as UTC;
- integer (or decimal) epochs are read in the declared unit or, undeclared, in the unit their
  magnitude implies (seconds, ms, us, ns): never as nanoseconds by accident;
- text is read with the declared strftime ``format``, or the declared ``dayfirst`` order, or,
  undeclared, as ISO-8601; text that is not ISO-8601 is accepted only when reading it day-first
  and month-first gives the same moments (month names, say). Otherwise :class:`SchemaError`
  names the column, shows examples and says what to declare.

Values that cannot be read become NaT, and validation quarantines their rows. Each call looks
only at the values it is given, so a batch job can parse chunk by chunk.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from leadscore.config import DateFormat
from leadscore.errors import SchemaError

# an epoch below 1e11 is seconds (1e11 s is the year 5138), below 1e14 milliseconds and so on
_EPOCH_UNITS: tuple[tuple[float, str], ...] = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_YYYYMMDD = re.compile(r"(19|20)\d{6}")
_EXAMPLES = 3


def parse_timestamps(
    values: pd.Series,
    spec: DateFormat | None = None,
    *,
    table: str = "leads",
    column: str | None = None,
) -> pd.Series:
    """``values`` as tz-aware UTC moments, read as ``spec`` declares; blanks and values that do
    not read become NaT. ``table`` and ``column`` (the user's names) go into errors."""
    spec = spec or DateFormat()
    name = column if column is not None else str(values.name)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if values.dtype.kind == "M":
        return values.dt.tz_localize("UTC")
    if values.dtype.kind in "iuf":
        return _epochs(values.astype("float64"), spec.unit)
    stripped = values.astype("str").str.strip()
    text = stripped.where(values.notna() & (stripped != ""))
    codes, uniques = pd.factorize(text)
    out = np.full(len(values), np.datetime64("NaT"), "datetime64[ns]")
    if len(uniques):
        read = _read_text(pd.Series(uniques, dtype="str"), spec, table=table, column=name)
        naive = read.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
        out[codes >= 0] = naive[codes[codes >= 0]]
    return pd.Series(out, index=values.index).dt.tz_localize("UTC")


def has_time_of_day(moments: pd.Series) -> bool:
    """Whether any moment is not exactly midnight UTC: a column of dates alone has none."""
    given = moments.dropna()
    return bool(len(given)) and bool((given != given.dt.normalize()).any())


def _read_text(text: pd.Series, spec: DateFormat, *, table: str, column: str) -> pd.Series:
    """Distinct non-blank values, read as declared or unambiguously."""
    if spec.format is not None:
        return pd.to_datetime(text, format=spec.format, errors="coerce", utc=True)
    if len(text) and text.str.fullmatch(_NUMBER).all():
        if spec.unit is None and text.str.fullmatch(_YYYYMMDD).all():
            raise SchemaError(
                f"{table} column '{column}' holds numbers such as {_examples(text)}: dates "
                f"written YYYYMMDD or epoch seconds? Declare schema.dates.{table}.format "
                f"('%Y%m%d') or .unit (s, ms, us, ns)"
            )
        return _epochs(text.astype("float64"), spec.unit)
    if spec.dayfirst is not None:
        return _numeric_order(text, dayfirst=spec.dayfirst)
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    rest = text[iso.isna()]
    if rest.empty:
        return iso
    month_first = _numeric_order(rest, dayfirst=False)
    day_first = _numeric_order(rest, dayfirst=True)
    differ = month_first.ne(day_first) & (month_first.notna() | day_first.notna())
    if differ.any():
        raise SchemaError(_ambiguity(rest, month_first, day_first, table=table, column=column))
    return iso.fillna(month_first)


def _numeric_order(text: pd.Series, *, dayfirst: bool) -> pd.Series:
    """Read numeric dates strictly day-first (or month-first), a layout at a time: each layout
    is guessed from one value, its day and month put in the declared order, and applied to
    every value not read yet. A value that does not fit its order stays NaT."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    todo = text.copy()
    while len(todo):
        with warnings.catch_warnings():  # pandas warns when a guess disagrees with dayfirst
            warnings.simplefilter("ignore", UserWarning)
            layout = guess_datetime_format(todo.iloc[0], dayfirst=dayfirst)
        if layout is None:
            todo = todo.iloc[1:]
            continue
        read = pd.to_datetime(todo, format=in_order(layout, dayfirst), errors="coerce", utc=True)
        out[read.index[read.notna()]] = read[read.notna()]
        rest = todo[read.isna()]
        todo = rest if pd.notna(read.iloc[0]) else rest.iloc[1:]  # a first value that does
        # not fit its own layout in this order is unreadable this way
    return out


def in_order(layout: str, dayfirst: bool) -> str:
    """``layout`` with ``%d`` and ``%m`` in the asked order; year-first dates are always
    year-month-day (nobody writes 2018/13/02)."""
    if "%d" not in layout or "%m" not in layout:
        return layout  # month names, or no day: one reading only
    day_before = layout.index("%d") < layout.index("%m")
    want_day_before = dayfirst and not layout.startswith("%Y")
    if day_before == want_day_before:
        return layout
    return layout.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _epochs(numbers: pd.Series, unit: str | None) -> pd.Series:
    """Numbers since 1970-01-01 UTC, in ``unit`` or the unit their typical magnitude implies."""
    if unit is None:
        typical = float(np.nanmedian(np.abs(numbers))) if numbers.notna().any() else 0.0
        unit = next((u for limit, u in _EPOCH_UNITS if typical < limit), "ns")
    return pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")


def _ambiguity(
    text: pd.Series, month_first: pd.Series, day_first: pd.Series, *, table: str, column: str
) -> str:
    both = month_first.notna() & day_first.notna() & month_first.ne(day_first)
    one_way = month_first.isna() ^ day_first.isna()
    shown = [*text[both].head(_EXAMPLES), *text[one_way].head(_EXAMPLES)][:_EXAMPLES]
    sample = shown[0] if shown else ""
    guess = guess_datetime_format(sample, dayfirst=True) or "%d-%m-%Y"
    return (
        f"{table} column '{column}' has dates that read both day-first and month-first "
        f"(e.g. {', '.join(repr(s) for s in shown)}): declare which, as "
        f"schema.dates.{table}.format (e.g. '{in_order(guess, True)}' or "
        f"'{in_order(guess, False)}') or schema.dates.{table}.dayfirst: true/false"
        + f" (or for this column only, schema.dates.columns['{column}'])"
    )


def _examples(text: pd.Series) -> str:
    return ", ".join(repr(v) for v in text.head(_EXAMPLES))
