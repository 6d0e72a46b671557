"""The partition layout check reads Parquet footers only: which events files each leads file
needs, and the tables it refuses before a cluster is contacted."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leadscore.data.partitions import (
    PartitioningError,
    check_partitioned,
    events_files,
    read_partitions,
)
from leadscore.errors import InputError, SchemaError


def _write(folder: Path, files: dict[str, list[str | None]], **options) -> str:
    folder.mkdir()
    for name, ids in files.items():
        pq.write_table(pa.table({"lead_id": pa.array(ids, pa.string())}), folder / name, **options)
    return str(folder)


def test_each_leads_file_gets_the_events_files_of_its_id_range(tmp_path):
    leads = read_partitions(_write(tmp_path / "leads", {
        "a.parquet": ["L01", "L05", None], "b.parquet": ["L06", "L09"], "c.parquet": [None],
        "d.parquet": ["L20", "L30"],
    }), "lead_id")  # fmt: skip
    events = read_partitions(_write(tmp_path / "events", {
        "1.parquet": ["L00", "L02"], "2.parquet": ["L04", "L07"], "3.parquet": ["L10", "L12"],
        "4.parquet": ["L29", "L40"],
    }), "lead_id")  # fmt: skip
    assert [(p.relative, p.rows, p.low, p.high) for p in leads] == [
        ("a.parquet", 3, "L01", "L05"), ("b.parquet", 2, "L06", "L09"),
        ("c.parquet", 1, None, None), ("d.parquet", 2, "L20", "L30"),
    ]  # fmt: skip
    names = [[Path(f).name for f in found] for found in events_files(leads, events)]
    assert names == [["1.parquet", "2.parquet"], ["2.parquet"], [], ["4.parquet"]]


def test_overlapping_ranges_and_missing_statistics_are_refused(tmp_path):
    leads = read_partitions(
        _write(tmp_path / "leads", {"a.parquet": ["L01", "L05"], "b.parquet": ["L06"]}), "lead_id"
    )
    events = read_partitions(
        _write(tmp_path / "events", {"1.parquet": ["L01", "L06"], "2.parquet": ["L05"]}), "lead_id"
    )
    check_partitioned(leads, "leads")
    with pytest.raises(PartitioningError, match=r"1\.parquet holds lead ids 'L01'\.\.'L06'"):
        events_files(leads, events)
    no_stats = _write(tmp_path / "raw", {"a.parquet": ["L01"]}, write_statistics=False)
    with pytest.raises(PartitioningError, match="no min/max statistics"):
        read_partitions(no_stats, "lead_id")
    with pytest.raises(SchemaError, match="no column 'id'"):
        read_partitions(no_stats, "id")
    with pytest.raises(InputError, match="no such file"):
        read_partitions(str(tmp_path / "nowhere"), "lead_id")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Parquet file"):
        read_partitions(str(tmp_path / "empty"), "lead_id")
