"""Partitioned Parquet tables for scoring on a cluster: their files, and whether the layout works.

A partition's engagement features need only its own leads' events when both tables are
partitioned by lead id: every file holds one range of lead ids and no two files of a table have
overlapping ranges (what a table sorted by lead id and then split gives, and what Dask's
``set_index("lead_id").to_parquet(...)`` writes). The events of a partition's leads can then only
be in the events files whose range overlaps the partition's, so each partition is scored from a
few files and nothing is shuffled across the cluster. The check reads the files' footers (their
min/max statistics), never the rows, so it is cheap enough to run before any work starts.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pyarrow.parquet as pq

from leadscore.errors import InputError, SchemaError

HOW_TO_PARTITION = (
    "write each table sorted by lead id and split into files of consecutive ids (e.g. with Dask: "
    "dd.read_parquet(...).set_index('lead_id').reset_index().to_parquet(folder)); "
    "see 'When one machine is not enough' in the README"
)


class PartitioningError(InputError):
    """A partitioned table whose files are not partitioned by lead id (exit code 3)."""


@dataclass(frozen=True)
class Partition:
    """One Parquet file of a partitioned table and the lead id range its footer declares."""

    path: str
    relative: str  # the file's path inside the table's folder: the output partition's name
    rows: int
    # the smallest and largest lead id (text or numbers, as the file stores them); None when
    # the file holds no lead id at all
    low: Any
    high: Any


def read_partitions(location: str, column: str) -> list[Partition]:
    """The table's files in name order (a folder of ``.parquet`` files, or one file)."""
    path = Path(location)
    if not path.exists():
        raise InputError(f"{location}: no such file or folder")
    # pyarrow's discovery: nested (hive) folders, hidden and _ files skipped
    files = sorted(ds.dataset(location, format="parquet").files) if path.is_dir() else [location]
    if not files:
        raise InputError(f"{location}: no Parquet file in this folder")
    root = path if path.is_dir() else path.parent
    return [_partition(file, str(Path(file).relative_to(root)), column) for file in files]


def _partition(path: str, relative: str, column: str) -> Partition:
    meta = pq.ParquetFile(path).metadata
    names = meta.schema.names
    if column not in names:
        raise SchemaError(f"{path}: no column '{column}' (found: {', '.join(names)})")
    index = names.index(column)
    lows, highs = [], []
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(index).statistics
        if stats is None:
            raise PartitioningError(
                f"{path}: no min/max statistics for '{column}', so its lead id range is unknown; "
                "write the file with statistics (the default of pyarrow, Spark and Dask)"
            )
        if stats.has_min_max:  # a row group of missing ids only has none
            lows.append(stats.min)
            highs.append(stats.max)
    low, high = min(lows, default=None), max(highs, default=None)
    return Partition(path, relative, meta.num_rows, low, high)


def check_partitioned(parts: list[Partition], table: str) -> list[Partition]:
    """The files with ids, by lead id range; fail unless no two of them share an id range."""
    try:
        ranged = sorted((p for p in parts if p.low is not None), key=lambda p: p.low)
    except TypeError as exc:
        raise SchemaError(f"{table}: the lead id column has different types in its files") from exc
    for a, b in itertools.pairwise(ranged):
        if b.low <= a.high:
            raise PartitioningError(
                f"{table} is not partitioned by lead id: {a.relative} holds lead ids "
                f"{a.low!r}..{a.high!r} and {b.relative} {b.low!r}..{b.high!r}, so a lead's "
                f"rows and events could be in several partitions; {HOW_TO_PARTITION}"
            )
    return ranged


def events_files(leads: list[Partition], events: list[Partition]) -> list[list[str]]:
    """For each leads file, the events files whose id range overlaps its own.

    Both lists come from :func:`check_partitioned`; a leads file without ids gets no events file.
    """
    events = check_partitioned(events, "the event log")
    highs = [p.high for p in events]
    matches = []
    for part in leads:
        found = []
        if part.low is not None:
            try:
                first = bisect.bisect_left(highs, part.low)
            except TypeError as exc:
                message = "lead ids have one type in the leads, another in the events"
                raise SchemaError(message) from exc
            for candidate in events[first:]:
                if candidate.low > part.high:
                    break
                found.append(candidate.path)
        matches.append(found)
    return matches
