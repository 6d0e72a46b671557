"""Atomic writes: the file appears whole, with the mode the umask gives (not mkstemp's 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pytest

from leadscore.data.files import read_json, read_table, write_json, write_table
from leadscore.errors import InputError


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
