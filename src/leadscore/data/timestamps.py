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

Text is read at microsecond resolution, which holds every date from year 1 to 9999, and the
digits past the microsecond are added back: a ``9999-12-31`` "never" sentinel beside a
nanosecond ISO date is read right. The moments returned are nanoseconds (what the features and
outputs are built on), which only hold 1677-09-21 to 2262-04-11; a date read outside that is NaT
and marked :attr:`Moments.out_of_range`, so validation quarantines it with that reason instead
of wrapping it to another century.
"""

from __future__ import annotations

import re
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from leadscore.config import DateFormat
from leadscore.errors import SchemaError

# an epoch below 1e11 is seconds (1e11 s is the year 5138), below 1e14 milliseconds and so on
_EPOCH_UNITS: tuple[tuple[float, str], ...] = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_YYYYMMDD = re.compile(r"(19|20)\d{6}")
_PAST_MICROSECOND = r"(?<=\.\d{6})(\d{1,3})(?!\d)"  # a 7th to 9th digit of a fraction
_EARLY_YEAR = re.compile(r"\b0\d{3}\b")  # a year before 1000, which pandas cannot guess from
_EXAMPLES = 3
_READ_UNIT = "us"
# the moments that fit in nanoseconds with any sub-microsecond part added: the first and last
# whole microseconds inside pandas' bounds
NANOSECOND_RANGE = (
    pd.Timestamp.min.ceil("us").tz_localize("UTC"),
    (pd.Timestamp.max.floor("us") - pd.Timedelta(1, "us")).tz_localize("UTC"),
)


class Moments(NamedTuple):
    """Timestamps as read: nanosecond UTC moments, and which values read as dates outside
    what nanoseconds hold (their moment is NaT)."""

    at: pd.Series
    out_of_range: pd.Series


def parse_timestamps(
    values: pd.Series,
    spec: DateFormat | None = None,
    *,
    table: str = "leads",
    column: str | None = None,
) -> pd.Series:
    """``values`` as tz-aware UTC moments, read as ``spec`` declares; blanks, values that do
    not read and dates outside 1677-2262 become NaT. ``table`` and ``column`` (the user's
    names) go into errors."""
    return read_timestamps(values, spec, table=table, column=column).at


def read_timestamps(
    values: pd.Series,
    spec: DateFormat | None = None,
    *,
    table: str = "leads",
    column: str | None = None,
) -> Moments:
    """:func:`parse_timestamps`, telling the dates read outside 1677-2262 from the unreadable
    ones, so each is quarantined with its own reason."""
    spec = spec or DateFormat()
    name = column if column is not None else str(values.name)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return _in_range(values.dt.tz_convert("UTC"))
    if values.dtype.kind == "M":
        return _in_range(values.dt.tz_localize("UTC"))
    if values.dtype.kind in "iuf":
        return _in_nanoseconds(_epochs(values.astype("float64"), spec.unit))
    stripped = values.astype("str").str.strip()
    text = stripped.where(values.notna() & (stripped != ""))
    codes, uniques = pd.factorize(text)
    out = np.full(len(values), np.datetime64("NaT"), f"datetime64[{_READ_UNIT}]")
    nanos = np.zeros(len(values), "int64")
    if len(uniques):
        distinct = pd.Series(uniques, dtype="str")
        trimmed, extra = _split_nanoseconds(distinct)
        read = _read_text(trimmed, spec, table=table, column=name)
        naive = read.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit(_READ_UNIT)
        out[codes >= 0] = naive.to_numpy()[codes[codes >= 0]]
        nanos[codes >= 0] = extra[codes[codes >= 0]]
    moments = pd.Series(out, index=values.index).dt.tz_localize("UTC")
    return _in_nanoseconds(moments, nanos)


def _split_nanoseconds(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``text`` with fractions cut at the microsecond (pandas reads a nanosecond fraction in
    nanoseconds, where years past 2262 do not fit), and the nanoseconds cut off."""
    past = text.str.extract(_PAST_MICROSECOND, expand=False)
    if past.isna().all():
        return text, np.zeros(len(text), "int64")
    nanos = past.fillna("0").str.ljust(3, "0").astype("int64").to_numpy()
    return text.str.replace(_PAST_MICROSECOND, "", regex=True), nanos


def _in_nanoseconds(moments: pd.Series, nanos: np.ndarray | None = None) -> Moments:
    """``moments`` (any resolution) in nanoseconds plus ``nanos``; those outside what
    nanoseconds hold become NaT and are marked out of range."""
    outside = _outside(moments)
    fine = moments.where(~outside).dt.as_unit("ns")
    if nanos is not None and nanos.any():
        fine = fine + pd.to_timedelta(nanos, unit="ns")
    return Moments(fine, outside)


def _in_range(moments: pd.Series) -> Moments:
    """A datetime column in its own resolution (converting it would move the last digit of
    the features computed from it), with the moments nanoseconds cannot hold emptied and
    marked, as a text date's are."""
    outside = _outside(moments)
    return Moments(moments.where(~outside), outside)


def _outside(moments: pd.Series) -> pd.Series:
    first, last = NANOSECOND_RANGE
    return moments.notna() & ((moments < first) | (moments > last))


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
    return iso.dt.as_unit(_READ_UNIT).fillna(month_first)


def _numeric_order(text: pd.Series, *, dayfirst: bool) -> pd.Series:
    """Read numeric dates strictly day-first (or month-first), a layout at a time: each layout
    is guessed from one value, its day and month put in the declared order, and applied to
    every value not read yet. A value that does not fit its order stays NaT."""
    out = pd.Series(pd.NaT, index=text.index, dtype=f"datetime64[{_READ_UNIT}, UTC]")
    todo = text.copy()
    while len(todo):
        layout = _layout(todo.iloc[0], dayfirst=dayfirst)
        if layout is None:
            todo = todo.iloc[1:]
            continue
        read = pd.to_datetime(todo, format=in_order(layout, dayfirst), errors="coerce", utc=True)
        out[read.index[read.notna()]] = read[read.notna()].dt.as_unit(_READ_UNIT)
        rest = todo[read.isna()]
        todo = rest if pd.notna(read.iloc[0]) else rest.iloc[1:]  # a first value that does
        # not fit its own layout in this order is unreadable this way
    return out


def _layout(value: str, *, dayfirst: bool) -> str | None:
    """The strftime layout of ``value``; a year before 1000 is guessed as if it were 2000
    (pandas guesses none for it, though the layout is the same)."""
    with warnings.catch_warnings():  # pandas warns when a guess disagrees with dayfirst
        warnings.simplefilter("ignore", UserWarning)
        return guess_datetime_format(_EARLY_YEAR.sub("2000", value), dayfirst=dayfirst)


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
    guess = _layout(sample, dayfirst=True) or "%d-%m-%Y"
    return (
        f"{table} column '{column}' has dates that read both day-first and month-first "
        f"(e.g. {', '.join(repr(s) for s in shown)}): declare which, as "
        f"schema.dates.{table}.format (e.g. '{in_order(guess, True)}' or "
        f"'{in_order(guess, False)}') or schema.dates.{table}.dayfirst: true/false"
        + f" (or for this column only, schema.dates.columns['{column}'])"
    )


def _examples(text: pd.Series) -> str:
    return ", ".join(repr(v) for v in text.head(_EXAMPLES))
