"""Writing batch tables: rows staged chunk by chunk, then made visible all at once.

A :class:`TableWriter` stages the rows in a local Parquet file and commits them in one step (a
file moved into place, or one database transaction): a run killed half-way leaves the previous
table as it was, and the next run cleans up the staging it left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from leadscore.data.postgres_copy import copy_into
from leadscore.data.tables import TableRef, duckdb_connection, read_chunks, sql_engine

STAGING = "__staging"


class TableWriter(Protocol):
    """Rows appended in chunks, made visible all at once by :meth:`commit`."""

    def append(self, frame: pd.DataFrame) -> None: ...

    def commit(self) -> int:
        """Publish the staged rows; return how many rows of the existing table were kept."""
        ...

    def discard(self) -> None:
        """Drop whatever is staged and not committed (a no-op after :meth:`commit`)."""
        ...


def open_writer(ref: TableRef, empty: pd.DataFrame, key: str | None) -> TableWriter:
    """A writer to ``ref`` that upserts by ``key`` (or replaces the table when it is None).

    ``empty`` (zero rows, the right columns) is what gets written if no row comes.
    """
    kinds = {"parquet": _FileWriter, "csv": _FileWriter, "duckdb": _DuckDBWriter}
    return kinds.get(ref.kind, _SQLWriter)(ref, empty, key)


class _Staged(ABC):
    """Appends chunks to a local Parquet staging file, whatever the target.

    Databases are not touched until the commit, so a run may read its leads from the same
    SQLite file it writes its scores to, and a killed run leaves nothing in the database.
    """

    def __init__(self, ref: TableRef, empty: pd.DataFrame, key: str | None, staging: Path):
        self.ref, self.empty, self.key, self.staging = ref, empty, key, staging
        self.staging.unlink(missing_ok=True)  # left by a run that was killed
        self.writer: pq.ParquetWriter | None = None

    def append(self, frame: pd.DataFrame) -> None:
        if self.writer is None:
            schema = pa.Schema.from_pandas(frame, preserve_index=False)
            self.writer = pq.ParquetWriter(self.staging, schema)
        self.writer.write_table(
            pa.Table.from_pandas(frame, schema=self.writer.schema, preserve_index=False)
        )

    def _close(self) -> pq.ParquetFile:
        """Finish staging and open it for reading (an empty table if nothing came)."""
        if self.writer is None:
            self.append(self.empty)
        assert self.writer is not None
        self.writer.close()
        return pq.ParquetFile(self.staging)

    @abstractmethod
    def commit(self) -> int:
        """Publish the staged rows; return how many rows of the existing table were kept."""

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.staging.unlink(missing_ok=True)


class _FileWriter(_Staged):
    """Stages Parquet beside the target, then moves the finished file into place."""

    def __init__(self, ref: TableRef, empty: pd.DataFrame, key: str | None) -> None:
        path = Path(ref.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(ref, empty, key, path.with_name(f".{path.name}{STAGING}.parquet"))
        self.path = path

    def commit(self) -> int:
        staged = self._close()
        final = self.path.with_name(f".{self.path.name}{STAGING}.final{self.path.suffix}")
        try:
            if self.path.suffix == ".parquet":
                kept = self._finish_parquet(staged, final)
            else:
                kept = self._finish_csv(staged, final)
            os.replace(final, self.path)
        finally:
            final.unlink(missing_ok=True)
            self.staging.unlink(missing_ok=True)
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
        kept, header = 0, True
        for batch in staged.iter_batches():
            batch.to_pandas().to_csv(final, mode="a", header=header, index=False)
            header = False
        for chunk in self._earlier_rows():
            chunk[staged.schema_arrow.names].to_csv(final, mode="a", header=False, index=False)
            kept += len(chunk)
        return kept


class _DatabaseWriter(_Staged):
    """Publishes the staged rows in one database transaction: all of them or none.

    The subclasses say how to load the staging file into a table, run a statement and hold a
    transaction; what publishing does (delete tonight's keys and insert the staged rows, or
    swap the table) is said once, here.
    """

    def __init__(self, ref: TableRef, empty: pd.DataFrame, key: str | None) -> None:
        folder = Path(tempfile.mkdtemp(prefix="leadscore-"))
        super().__init__(ref, empty, key, folder / "staging.parquet")
        self.staging_name = f"{ref.name}{STAGING}"
        self.target, self.staging_table = self.quote(ref.name), self.quote(self.staging_name)

    def discard(self) -> None:
        super().discard()
        shutil.rmtree(self.staging.parent, ignore_errors=True)

    @abstractmethod
    def quote(self, name: str) -> str:
        """An identifier quoted for this database's SQL."""

    @abstractmethod
    def load(self, staged: pq.ParquetFile, execute: Callable[[str], Any]) -> None:
        """Create the staging table from the staged rows."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the target table exists."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Callable[[str], Any]]:
        """A transaction, as a function that runs one statement and returns its first value."""

    def commit(self) -> int:
        staged = self._close()
        kept = 0
        target, staging = self.target, self.staging_table
        try:
            with self.transaction() as execute:
                exists = self.exists()
                execute(f"DROP TABLE IF EXISTS {staging}")
                self.load(staged, execute)
                if exists and self.key is not None:
                    key = self.quote(self.key)
                    tonight = f"SELECT {key} FROM {staging}"
                    # an anti-join: PostgreSQL runs NOT IN (subquery) row by row once the keys
                    # outgrow work_mem, hours for a million rows
                    match = f"SELECT 1 FROM {staging} WHERE {staging}.{key} = {target}.{key}"
                    kept = execute(f"SELECT count(*) FROM {target} WHERE NOT EXISTS ({match})")
                    execute(f"DELETE FROM {target} WHERE {key} IN ({tonight})")
                    columns = ", ".join(self.quote(c) for c in staged.schema_arrow.names)
                    execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {staging}")
                    execute(f"DROP TABLE {staging}")
                else:
                    if exists:
                        execute(f"DROP TABLE {target}")
                    execute(f"ALTER TABLE {staging} RENAME TO {target}")
        finally:
            self.discard()
        return int(kept)


class _DuckDBWriter(_DatabaseWriter):
    def __init__(self, ref: TableRef, empty: pd.DataFrame, key: str | None) -> None:
        self.con = duckdb_connection(ref.location).cursor()
        super().__init__(ref, empty, key)

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def load(self, staged: pq.ParquetFile, execute: Callable[[str], Any]) -> None:
        path = str(self.staging).replace("'", "''")
        execute(f"CREATE TABLE {self.staging_table} AS SELECT * FROM read_parquet('{path}')")

    def exists(self) -> bool:
        return (self.ref.table,) in self.con.execute("SHOW TABLES").fetchall()

    @contextmanager
    def transaction(self) -> Iterator[Callable[[str], Any]]:
        def execute(sql: str) -> Any:
            row = self.con.execute(sql).fetchone()
            return row[0] if row else None

        self.con.execute("BEGIN TRANSACTION")
        try:
            yield execute
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")


class _SQLWriter(_DatabaseWriter):
    def __init__(self, ref: TableRef, empty: pd.DataFrame, key: str | None) -> None:
        self.engine = sql_engine(ref.location)
        super().__init__(ref, empty, key)

    def quote(self, name: str) -> str:
        return self.engine.dialect.identifier_preparer.quote(name)

    def load(self, staged: pq.ParquetFile, execute: Callable[[str], Any]) -> None:
        if self.engine.dialect.name == "postgresql":  # COPY rather than row inserts
            return copy_into(staged, self.conn, self.staging_name)
        for batch in staged.iter_batches():
            batch.to_pandas().to_sql(self.staging_name, self.conn, if_exists="append", index=False)

    def exists(self) -> bool:
        return sa.inspect(self.conn).has_table(self.ref.name)

    @contextmanager
    def transaction(self) -> Iterator[Callable[[str], Any]]:
        with self.engine.begin() as conn:
            self.conn = conn

            def execute(sql: str) -> Any:
                result = conn.execute(sa.text(sql))
                return result.scalar() if result.returns_rows else None

            yield execute
