"""What a sample of a table says about each column: its kind, how full and how varied it is, how
its dates read, and what its values look like (e-mail, phone, URL, browser). Pure functions:
a sample in, profiles out; :mod:`leadscore.onboarding.proposal` turns them into roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pandas.tseries.api import guess_datetime_format

from leadscore.config import DateFormat
from leadscore.data.timestamps import has_time_of_day, in_order, parse_timestamps
from leadscore.errors import SchemaError

# numbers are epochs only under a name like these (a count of seconds on site is not a date)
_DATE_NAME = re.compile(r"date|created|_at$| at$|timestamp|^ts$|^time$|[ _]time$", re.I)
_DIGITS = re.compile(r"-?\d+(\.\d+)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
_PHONE = re.compile(r"\+?[\d\s().-]{7,20}")
_URL = re.compile(r"(https?://|www\.|/)\S*", re.I)
PLACEHOLDERS: tuple[str, ...] = ("Select", "select", "N/A", "n/a", "-", "none", "None")
READABLE = 0.9  # share of a column's values that must read as dates for it to be one


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str  # empty, number, date or text
    missing: float  # share of blank cells
    distinct: int
    unique: bool  # every row given and different
    top: tuple[str, ...]  # the most frequent values, most frequent first
    reading: str | None = None  # dates: native, iso, epoch, dayfirst, monthfirst, ambiguous
    date_format: str | None = None  # a strftime that reads the dates, when they need one
    has_time: bool = False
    looks: str | None = None  # email, phone, url, user_agent, placeholder: what values look like
    examples: tuple[str, ...] = ()


def profile_table(sample: pd.DataFrame) -> dict[str, ColumnProfile]:
    """A profile of every column of ``sample``, in the table's order."""
    return {str(c): profile_column(sample[c], str(c)) for c in sample.columns}


def profile_column(values: pd.Series, name: str) -> ColumnProfile:
    text = values.astype("str").str.strip().where(values.notna())
    text = text.where(text != "")
    given = text.dropna()
    counts = given.value_counts()
    base: dict[str, Any] = {
        "name": name,
        "missing": float(text.isna().mean()) if len(text) else 1.0,
        "distinct": len(counts),
        "unique": bool(len(given) == len(values) and (counts <= 1).all()),
        "top": tuple(str(v) for v in counts.index[:12]),
        "examples": tuple(str(v) for v in given.head(3)),
    }
    if given.empty:
        return ColumnProfile(kind="empty", **base)
    dates = _date_profile(values, given, name)
    if dates is not None:
        return ColumnProfile(kind="date", **base, **dates)
    numeric = values.dtype.kind in "iuf" or bool(given.str.fullmatch(_DIGITS).mean() >= 0.99)
    if numeric:
        return ColumnProfile(kind="number", **base)
    return ColumnProfile(kind="text", looks=_looks(given), **base)


def _date_profile(values: pd.Series, given: pd.Series, name: str) -> dict | None:
    """How a column's dates read, or None when it is not a date column."""
    if values.dtype.kind == "M":
        moments = parse_timestamps(values)
        return {"reading": "native", "has_time": has_time_of_day(moments)}
    digits = values.dtype.kind in "iuf" or bool(given.str.fullmatch(_DIGITS).all())
    if digits and not _DATE_NAME.search(name):
        return None  # counts and codes are not epochs unless the name says time
    try:
        moments = parse_timestamps(given, column=name)
    except SchemaError:
        return _numeric_dates(given, name)
    if moments.notna().mean() < READABLE:
        return None
    reading = "epoch" if digits else "iso"
    return {"reading": reading, "has_time": has_time_of_day(moments)}


def _numeric_dates(given: pd.Series, name: str) -> dict:
    """Dates like 01-02-2018: which order their values admit."""
    read = {
        first: parse_timestamps(given, DateFormat(dayfirst=first), column=name).notna().mean()
        for first in (True, False)
    }
    if read[True] >= READABLE and read[False] < read[True]:
        reading, first = "dayfirst", True
    elif read[False] >= READABLE and read[True] < read[False]:
        reading, first = "monthfirst", False
    else:
        reading, first = "ambiguous", True
    layout = guess_datetime_format(given.iloc[0], dayfirst=first)
    moments = parse_timestamps(given, DateFormat(dayfirst=first), column=name)
    return {
        "reading": reading,
        "date_format": in_order(layout, first) if layout else None,
        "has_time": has_time_of_day(moments),
    }


def _looks(given: pd.Series) -> str | None:
    """What most values look like, when they look like one thing."""
    sample = given.head(2000)
    if sample.isin(PLACEHOLDERS).any():
        return "placeholder"
    for kind, pattern in (("email", _EMAIL), ("url", _URL), ("phone", _PHONE)):
        if sample.str.fullmatch(pattern).mean() >= 0.8:
            return kind
    if sample.str.startswith("Mozilla/").mean() >= 0.5:
        return "user_agent"
    return None
