"""Writing batch tables: rows staged chunk by chunk, then made visible all at once.

A :class:`TableWriter` stages the rows where no reader of the output sees them and publishes them
in one step (a file moved into place, or one database transaction): a run killed half-way leaves
the previous table as it was, and nothing it staged is visible. Files and SQLite stage in a local
Parquet file (the next run replaces what a killed one left); PostgreSQL and DuckDB stage straight
into a staging table inside the transaction that publishes it (see
:mod:`leadscore.data.database_writers`). One writer at a time writes an output; where the staging
and the lock live is :mod:`leadscore.data.staging`'s business.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leadscore.data.database_writers import DuckDBWriter, SQLWriter
from leadscore.data.delimited import read_csv_header
from leadscore.data.staging import STAGING, acquire, create_file, place_of
from leadscore.data.tables import TableRef, read_chunks
from leadscore.data.writing import ParquetStage, Writer, unwritable
from leadscore.errors import OutputError, SchemaError

__all__ = ["TableWriter", "open_writer", "unwritable"]


class TableWriter(Protocol):
    """Rows appended in chunks, made visible all at once by :meth:`commit`."""

    ref: TableRef

    def append(self, frame: pd.DataFrame) -> None: ...

    def commit(self) -> int:
        """Publish the staged rows; return how many rows of the existing table were kept."""
        ...

    def discard(self) -> None:
        """Drop whatever is staged and not committed (a no-op after :meth:`commit`)."""
        ...


def open_writer(
    ref: TableRef,
    empty: pd.DataFrame,
    key: str | None,
    *,
    personal: bool = False,
    exclusive: bool = True,
) -> TableWriter:
    """A writer to ``ref`` that upserts by ``key`` (or replaces the table when it is None).

    ``empty`` (zero rows, the right columns) is what gets written if no row comes. Opening the
    writer locks the output (unless ``exclusive`` is False: the caller holds a lock that covers
    it) and checks that it can be written, so an output that cannot be written stops a run
    before any work, with :class:`OutputError`. A ``personal`` output (raw rows holding personal
    data) is written as a file that only its owner reads (0600); databases keep their own
    permissions.
    """
    kinds = {"parquet": _FileWriter, "csv": _FileWriter, "duckdb": DuckDBWriter}
    with unwritable(ref):
        place = place_of(ref)
        lock = acquire(ref, place) if exclusive else None
        try:
            return kinds.get(ref.kind, SQLWriter)(ref, empty, key, place.staging, personal, lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise


class _FileWriter(Writer):
    """Stages Parquet beside the target, then moves the finished file into place."""

    def check(self) -> None:
        self.path = Path(self.ref.location)
        if self.path.is_dir():
            raise OutputError(f"{self.ref}: a folder, not a {self.ref.kind} file")
        if self.key is not None and self.path.exists():
            self._check_columns()
        self.parquet = ParquetStage(self.staging)

    def _check_columns(self) -> None:
        """An existing file to upsert must have the rows' columns: its own others would be
        dropped from every row (CSV) or fail the run once scored (Parquet), so they stop it
        before it starts."""
        if self.path.suffix == ".parquet":
            found = pq.read_schema(self.path).names
        else:
            found = read_csv_header(str(self.path))
        extra = [c for c in found if c not in self.empty.columns]
        missing = [c for c in self.empty.columns if c not in found]
        if extra or missing:
            raise SchemaError(
                f"{self.ref}: the existing file's columns are not the ones written here "
                f"(extra: {', '.join(extra) or 'none'}; missing: {', '.join(missing) or 'none'})."
                " A file output holds leadscore's columns only: move the file away (or keep "
                "your columns in a table of your own, joined on the key) and run again"
            )

    def stage(self, table: pa.Table) -> None:
        self.parquet.write(table)

    def drop(self) -> None:
        self.parquet.remove()

    def exists(self) -> bool:
        return self.path.exists()

    def publish(self) -> int:
        staged = self.parquet.finished()
        final = self.path.with_name(f".{self.path.name}{STAGING}.final{self.path.suffix}")
        create_file(final, private=self.personal, like=self.path)
        try:
            if self.path.suffix == ".parquet":
                kept = self._finish_parquet(staged, final)
            else:
                kept = self._finish_csv(staged, final)
            os.replace(final, self.path)
        finally:
            final.unlink(missing_ok=True)
        return kept

    def _earlier_rows(self) -> Iterator[pd.DataFrame]:
        """The existing table's rows whose key is not staged tonight (none when replacing)."""
        if self.key is None or not self.path.exists():
            return
        # tonight's keys are read back from the staging file only now, as one Arrow column,
        # rather than held as Python strings for the whole run
        staged = pq.read_table(self.staging, columns=[self.key])[self.key].cast(pa.string())
        for chunk in read_chunks(self.ref, 100_000):
            keys = pa.array(chunk[self.key].astype("str"), pa.string())
            yield chunk[~pc.is_in(keys, value_set=staged).to_numpy(zero_copy_only=False)]

    def _finish_parquet(self, staged: pq.ParquetFile, final: Path) -> int:
        kept = 0
        with pq.ParquetWriter(final, staged.schema_arrow) as out:
            for batch in staged.iter_batches():
                out.write_batch(batch)
            for chunk in self._earlier_rows():
                out.write_table(
                    pa.Table.from_pandas(chunk, preserve_index=False).cast(staged.schema_arrow)
                )
                kept += len(chunk)
        return kept

    def _finish_csv(self, staged: pq.ParquetFile, final: Path) -> int:
        # the header first, so that a night without a row still writes one
        staged.schema_arrow.empty_table().to_pandas().to_csv(final, mode="a", index=False)
        for batch in staged.iter_batches():
            batch.to_pandas().to_csv(final, mode="a", header=False, index=False)
        kept = 0
        for chunk in self._earlier_rows():
            chunk[staged.schema_arrow.names].to_csv(final, mode="a", header=False, index=False)
            kept += len(chunk)
        return kept
