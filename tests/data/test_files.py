"""JSON files and summaries are strict JSON: a missing number is null, never a bare NaN."""

import math

import numpy as np
import pandas as pd
import pytest

from leadscore.data.files import dumps_json, read_json, write_json
from support import strict_json


def test_strict_parser_of_the_tests_rejects_what_python_writes_by_default():
    with pytest.raises(ValueError, match="NaN is not JSON"):
        strict_json('{"leads_per_day": NaN}')
    with pytest.raises(ValueError, match="Infinity is not JSON"):
        strict_json("[-Infinity]")


def test_missing_and_infinite_numbers_are_written_as_null_at_any_depth(tmp_path):
    data = {
        "leads_per_day": float("nan"),
        "lift": [1.5, np.float64("inf"), np.float32("-inf")],
        "nested": {"precision": np.nan, "count": np.int64(3), "share": np.float32(0.25)},
        "window": (pd.Timestamp("2026-01-02", tz="UTC"), pd.NaT, np.datetime64("NaT")),
        "ok": np.bool_(True),
    }
    write_json(data, tmp_path / "calibration.json")
    parsed = strict_json((tmp_path / "calibration.json").read_text())
    assert parsed == {
        "leads_per_day": None,
        "lift": [1.5, None, None],
        "nested": {"count": 3, "precision": None, "share": 0.25},
        "ok": True,
        "window": ["2026-01-02 00:00:00+00:00", None, None],
    }
    assert read_json(tmp_path / "calibration.json") == parsed


def test_finite_numbers_keep_their_exact_value():
    value = 0.1 + 0.2
    assert strict_json(dumps_json({"x": value}))["x"] == value
    assert not math.isnan(strict_json(dumps_json([np.float64(1e-300)]))[0])


def test_one_line_form_for_a_table_cell():
    assert dumps_json({"a": np.nan, "b": "x"}, indent=None) == '{"a": null, "b": "x"}'
