"""An online request goes through the few-values branches (dict lookups, zoneinfo per moment),
a table through the vectorised ones: both must give the same answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytz

from leadscore.data.timezones import FEW_MOMENTS, local_clock
from leadscore.features.cleaning import SMALL_INPUT, clean_text, missing, per_distinct, positions

RNG = np.random.default_rng(7)


def _in_pieces(func, *arrays, size):
    n = len(arrays[0])
    return np.concatenate([func(*(a[i : i + size] for a in arrays)) for i in range(0, n, size)])


def test_local_clock_of_a_few_moments_is_the_tables():
    n = 4000
    seconds = RNG.integers(0, 12 * 365 * 86400, n).astype("timedelta64[s]")
    utc = (np.datetime64("2019-01-01", "s") + seconds).astype("datetime64[us]")
    utc[5] = np.datetime64("NaT")
    zones = np.array(RNG.choice([*pytz.common_timezones, None], n), dtype=object)
    table = local_clock(utc, zones)
    assert len(utc) > FEW_MOMENTS and (table != utc).any()
    few = _in_pieces(local_clock, utc, zones, size=FEW_MOMENTS)
    np.testing.assert_array_equal(few, table)


def test_per_distinct_and_positions_of_a_few_values_are_the_tables():
    words = np.array(RNG.choice(["a", " b ", "Select", "", "c", None, np.nan], 700), dtype=object)
    assert len(words) > SMALL_INPUT
    table = clean_text(words, ("Select", ""))
    few = _in_pieces(lambda w: clean_text(w, ("Select", "")), words, size=SMALL_INPUT)
    assert list(few) == list(table) and set(table) == {"a", "b", "c", None}
    lengths = per_distinct(words, len, missing=-1)
    assert list(_in_pieces(lambda w: per_distinct(w, len, missing=-1), words, size=7)) == list(
        lengths
    )
    ids = np.array(RNG.choice(["x", "y", "z", "w"], 700), dtype=object)
    known = np.array(["z", "x", "y"], dtype=object)
    many = positions(ids, known)
    assert set(many) == {-1, 0, 1, 2}
    few = _in_pieces(lambda i: positions(i, known), ids, size=SMALL_INPUT)
    np.testing.assert_array_equal(few, many)


def test_missing_of_a_few_values_is_pandas_isna():
    kinds = ["a", "", None, np.nan, pd.NA, pd.NaT, np.datetime64("NaT"), 0.0, float("nan"), 3]
    values = np.array(RNG.choice(np.array(kinds, dtype=object), 500), dtype=object)
    assert len(values) > SMALL_INPUT
    expected = pd.isna(values)
    assert 0 < expected.sum() < len(values)
    np.testing.assert_array_equal(_in_pieces(missing, values, size=SMALL_INPUT), expected)
    numbers = np.where(RNG.random(100) < 0.3, np.nan, 1.0)
    np.testing.assert_array_equal(missing(numbers[:5]), np.isnan(numbers[:5]))
