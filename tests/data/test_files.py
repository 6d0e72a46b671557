"""Local files: strict JSON (a missing number is null, never a bare NaN), and atomic writes that
appear whole with the mode the umask gives (not mkstemp's 0600)."""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from leadscore.data.files import (
    dumps_json,
    kept_figures,
    read_json,
    read_table,
    write_json,
    write_table,
)
from leadscore.errors import InputError
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


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    before = os.umask(mask)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, mask, mode):
    frame = pd.DataFrame({"lead_id": ["L1"], "score": [3]})
    with _umask(mask):
        write_json({"a": 1}, tmp_path / "out.json")
        write_table(frame, tmp_path / "out.parquet")
        write_table(frame, tmp_path / "out.csv")
    for name in ("out.json", "out.parquet", "out.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
    assert read_json(tmp_path / "out.json") == {"a": 1}
    pd.testing.assert_frame_equal(read_table(tmp_path / "out.parquet"), frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.json", "out.parquet"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    write_json({"a": 1}, tmp_path / "out.json")
    with pytest.raises(InputError, match="unknown table format"):
        write_table(pd.DataFrame({"x": [1]}), tmp_path / "out.json")
    assert read_json(tmp_path / "out.json") == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_figures_git_keeps_are_the_same_bytes_when_only_the_16th_digit_moved(tmp_path):
    """Two runs whose sums ran in another order: the files git keeps must not differ."""
    runs = [(0.1 + 0.2, 1 / 3), (0.3, 0.3333333333333333)]
    assert runs[0] != runs[1]
    texts = []
    for n, (auc, share) in enumerate(runs):
        metrics = {"roc_auc": auc, "rows": 3, "by": [{"share": np.float64(share)}], "x": None}
        write_json(kept_figures(metrics), tmp_path / f"m{n}.json")
        plot = pd.DataFrame({"share": [share, auc], "leads": [1, 2], "band": ["a", "b"]})
        write_table(kept_figures(plot), tmp_path / f"p{n}.csv")
        texts.append(((tmp_path / f"m{n}.json").read_text(), (tmp_path / f"p{n}.csv").read_text()))
    assert texts[0] == texts[1]
    assert read_json(tmp_path / "m0.json") == {"by": [{"share": 0.3333333333}], "roc_auc": 0.3,
                                               "rows": 3, "x": None}  # fmt: skip
    assert kept_figures(float("nan")) != kept_figures(float("nan"))  # NaN stays NaN
