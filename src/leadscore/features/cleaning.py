"""Turning free text from forms into comparable values: trimmed, placeholders made missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd


def clean_text(values: pd.Series, placeholders: Iterable[str]) -> pd.Series:
    """Trimmed text where a placeholder such as ``Select`` counts as not filled in."""
    text = values.astype("str").str.strip()
    return text.mask(text.isin(list(placeholders)))


def per_distinct(values: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """Apply an expensive per-value function once per distinct non-missing value.

    Lead tables repeat the same user agents, titles and domains many times; parsing each
    distinct string once keeps a million-row table cheap.
    """
    distinct = values.dropna().unique()
    lookup = dict(zip(distinct, map(func, distinct), strict=True))
    return values.map(lookup)
