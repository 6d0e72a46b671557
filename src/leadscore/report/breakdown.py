"""Conversion by a signal's value: the table behind "how does conversion move with the weekday?".

Shared by the model report (next to each top signal's average contribution) and the exploration
notebook. Values are put in a handful of readable groups: each value when there are few, ranges
with about equal numbers of leads when a number takes many values, the most common levels (the
rest as "other") for text; a missing value is its own group, "not given".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MISSING = "not given"
OTHER = "other"
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Features whose numeric values have names a reader knows better than the number.
VALUE_NAMES: dict[str, dict[str, str]] = {"weekday": {str(i): d for i, d in enumerate(WEEKDAYS)}}


def value_groups(
    values: pd.Series, name: str = "", max_levels: int = 10, bins: int = 6
) -> tuple[pd.Series, list[str]]:
    """A readable group label per row and the groups in reading order (numbers ascending, text
    by frequency; "other" and "not given" last)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        labels, order = _numeric_groups(values.astype("float64"), max_levels, bins)
        names = VALUE_NAMES.get(name, {})
        return labels.map(lambda v: names.get(v, v)), [names.get(v, v) for v in order]
    text = values.astype("object")
    counts = text.value_counts()
    top = list(counts.index[:max_levels].astype(str))
    labels = text.map(lambda v: MISSING if pd.isna(v) else str(v) if str(v) in top else OTHER)
    extra = [g for g in (OTHER, MISSING) if (labels == g).any()]
    return labels.astype("object"), [*top, *extra]


def _numeric_groups(values: pd.Series, max_levels: int, bins: int) -> tuple[pd.Series, list]:
    known = values.dropna()
    distinct = np.unique(known)
    if len(distinct) <= max_levels:
        index = pd.Series(np.searchsorted(distinct, values), index=values.index)
        names = [_number(v) for v in distinct]
    else:
        # Left-closed ranges on quantile edges keep a crowded value (0 page views) on its own.
        edges = np.unique(np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1]))
        index = pd.Series(np.searchsorted(edges, values, side="right"), index=values.index)
        spans = known.groupby(index[known.index]).agg(["min", "max"])
        names = [_span(low, high) for low, high in spans.itertuples(index=False)]
        index = index.map({group: i for i, group in enumerate(spans.index)})
    labels = index.where(values.notna()).map(dict(enumerate(names))).fillna(MISSING)
    return labels.astype("object"), [*names, *([MISSING] if values.isna().any() else [])]


def _span(low: float, high: float) -> str:
    """A bin's range as shown on a chart axis."""
    return _number(low) if low == high else f"{_number(low)}–{_number(high)}"


def _number(value: float) -> str:
    """Whole numbers as text without a decimal point; others to two decimals."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"


def conversion_by_value(
    values: pd.Series,
    labels: pd.Series | np.ndarray,
    contribution: pd.Series | np.ndarray | None = None,
    name: str = "",
) -> pd.DataFrame:
    """Per value group: leads, conversions, conversion rate and, given each row's contribution
    of the signal, its average (how much the model moves a lead's score for that value)."""
    groups, order = value_groups(values.reset_index(drop=True), name)
    frame = pd.DataFrame({"value": groups, "label": np.asarray(labels, dtype="float64")})
    aggregations = {
        "leads": ("label", "size"),
        "conversions": ("label", "sum"),
        "conversion_rate": ("label", "mean"),
    }
    if contribution is not None:
        frame["contribution"] = np.asarray(contribution, dtype="float64")
        aggregations["mean_contribution"] = ("contribution", "mean")
    table = frame.groupby("value", sort=False).agg(**aggregations)
    return table.reindex([g for g in order if g in table.index]).reset_index()
