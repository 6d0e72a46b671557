"""Writing batch tables: rows staged chunk by chunk, then made visible all at once.

A :class:`TableWriter` stages the rows in a local Parquet file and commits them in one step (a
file moved into place, or one database transaction): a run killed half-way leaves the previous
table as it was, and the next run cleans up the staging it left behind. One writer at a time
writes an output; where the staging and the lock live is :mod:`leadscore.data.staging`'s
business.
"""

from __future__ import annotations

import os
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
from leadscore.data.staging import STAGING, Lock, acquire, create_file, place_of
from leadscore.data.tables import (
    TableRef,
    as_error,
    count_rows,
    duckdb_connection,
    read_chunks,
    sql_engine,
)
from leadscore.errors import OutputError


class TableWriter(Protocol):
    """Rows appended in chunks, made visible all at once by :meth:`commit`."""

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
    kinds = {"parquet": _FileWriter, "csv": _FileWriter, "duckdb": _DuckDBWriter}
    with unwritable(ref):
        place = place_of(ref)
        lock = acquire(ref, place) if exclusive else None
        try:
            return kinds.get(ref.kind, _SQLWriter)(ref, empty, key, place.staging, personal, lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise


def unwritable(ref: TableRef) -> AbstractContextManager[None]:
    """What the storage libraries raise while writing ``ref``, as one :class:`OutputError`."""
    return as_error(ref, OutputError, "cannot be written")


class _Staged(ABC):
    """Appends chunks to a Parquet staging file (see :mod:`leadscore.data.staging` for where),
    whatever the target.

    Databases are not touched until the commit, so a run may read its leads from the same
    SQLite file it writes its scores to, and a killed run leaves nothing in the database.
    """

    def __init__(
        self,
        ref: TableRef,
        empty: pd.DataFrame,
        key: str | None,
        staging: Path,
        personal: bool,
        lock: Lock | None,
    ) -> None:
        self.ref, self.empty, self.key, self.staging = ref, empty, key, staging
        self.personal, self.lock = personal, lock
        self.writer: pq.ParquetWriter | None = None
        self.check()
        # whatever a killed run left here is replaced (the lock says no other run uses it)
        create_file(self.staging, private=True)

    @abstractmethod
    def check(self) -> None:
        """Fail unless the target can be written (before any row is staged)."""

    def append(self, frame: pd.DataFrame) -> None:
        with unwritable(self.ref):
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

    def commit(self) -> int:
        """Publish the staged rows; return how many rows of the existing table were kept.

        An upsert of no row (a night whose every lead was rejected) leaves an existing table as
        it is; a replacement by no row leaves an empty table with the columns of ``empty``.
        """
        try:
            with unwritable(self.ref):
                staged = self._close()
                if self.key is not None and staged.metadata.num_rows == 0 and self.exists():
                    return self._rows()
                return self._publish(staged)
        finally:
            self.discard()

    @abstractmethod
    def exists(self) -> bool:
        """Whether the target exists."""

    def _rows(self) -> int:
        """The rows of the existing target."""
        counted = count_rows(self.ref)
        return counted if counted is not None else sum(map(len, read_chunks(self.ref, 100_000)))

    @abstractmethod
    def _publish(self, staged: pq.ParquetFile) -> int:
        """Make the staged rows the target's, in one step."""

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.staging.unlink(missing_ok=True)
        if self.lock is not None:
            self.lock.release()
            self.lock = None


class _FileWriter(_Staged):
    """Stages Parquet beside the target, then moves the finished file into place."""

    def check(self) -> None:
        self.path = Path(self.ref.location)
        if self.path.is_dir():
            raise OutputError(f"{self.ref}: a folder, not a {self.ref.kind} file")

    def exists(self) -> bool:
        return self.path.exists()

    def _publish(self, staged: pq.ParquetFile) -> int:
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


class _DatabaseWriter(_Staged):
    """Publishes the staged rows in one database transaction: all of them or none, DDL
    included (SQLite's too: see :func:`leadscore.data.tables.sql_engine`).

    The subclasses say how to load the staging file into a table, run a statement and hold a
    transaction; what publishing does (delete tonight's keys and insert the staged rows, or
    swap the table) is said once, here.
    """

    def check(self) -> None:
        self.staging_name = f"{self.ref.name}{STAGING}"
        self.target, self.staging_table = self.quote(self.ref.name), self.quote(self.staging_name)
        with self.transaction(rollback=True) as execute:  # a table that can be made, and not
            execute(f"DROP TABLE IF EXISTS {self.staging_table}")  # kept: the right to write
            execute(f"CREATE TABLE {self.staging_table} (probe INTEGER)")

    @abstractmethod
    def quote(self, name: str) -> str:
        """An identifier quoted for this database's SQL."""

    @abstractmethod
    def load(self, staged: pq.ParquetFile, execute: Callable[[str], Any]) -> None:
        """Create the staging table from the staged rows (with its columns, even without any)."""

    @abstractmethod
    def table_exists(self) -> bool:
        """Whether the target table exists (inside :meth:`transaction`)."""

    @abstractmethod
    def transaction(
        self, *, rollback: bool = False
    ) -> AbstractContextManager[Callable[[str], Any]]:
        """A transaction, as a function that runs one statement and returns its first value;
        committed at the end unless ``rollback``."""

    def exists(self) -> bool:
        with self.transaction(rollback=True):
            return self.table_exists()

    def _publish(self, staged: pq.ParquetFile) -> int:
        kept = 0
        target, staging = self.target, self.staging_table
        with self.transaction() as execute:
            exists = self.table_exists()
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
        return int(kept)


class _DuckDBWriter(_DatabaseWriter):
    def check(self) -> None:
        self.con = duckdb_connection(self.ref.location).cursor()
        super().check()

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def load(self, staged: pq.ParquetFile, execute: Callable[[str], Any]) -> None:
        path = str(self.staging).replace("'", "''")
        execute(f"CREATE TABLE {self.staging_table} AS SELECT * FROM read_parquet('{path}')")

    def table_exists(self) -> bool:
        return (self.ref.table,) in self.con.execute("SHOW TABLES").fetchall()

    @contextmanager
    def transaction(self, *, rollback: bool = False) -> Iterator[Callable[[str], Any]]:
        def execute(sql: str) -> Any:
            row = self.con.execute(sql).fetchone()
            return row[0] if row else None

        self.con.execute("BEGIN TRANSACTION")
        try:
            yield execute
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("ROLLBACK" if rollback else "COMMIT")


class _SQLWriter(_DatabaseWriter):
    def check(self) -> None:
        self.engine = sql_engine(self.ref.location)
        super().check()

    def quote(self, name: str) -> str:
        return self.engine.dialect.identifier_preparer.quote(name)

    def load(self, staged: pq.ParquetFile, execute: Callable[[str], Any]) -> None:
        if self.engine.dialect.name == "postgresql":  # COPY rather than row inserts
            return copy_into(staged, self.conn, self.staging_name)
        columns = staged.schema_arrow.empty_table().to_pandas()
        columns.to_sql(self.staging_name, self.conn, if_exists="fail", index=False)
        for batch in staged.iter_batches():
            batch.to_pandas().to_sql(self.staging_name, self.conn, if_exists="append", index=False)

    def table_exists(self) -> bool:
        return sa.inspect(self.conn).has_table(self.ref.name)

    @contextmanager
    def transaction(self, *, rollback: bool = False) -> Iterator[Callable[[str], Any]]:
        with self.engine.connect() as conn, conn.begin() as transaction:
            self.conn = conn

            def execute(sql: str) -> Any:
                result = conn.execute(sa.text(sql))
                return result.scalar() if result.returns_rows else None

            yield execute
            if rollback:
                transaction.rollback()
