"""Writing a batch table into a database: a staging table, published in one transaction.

The staging table (``<name>__staging``) is created and filled inside the transaction that
publishes it: no other session sees it, and a run killed at any point (a lost session ends its
transaction) leaves the database as it was, with no staging table. PostgreSQL and DuckDB fill it
as the chunks come (COPY through psycopg; DuckDB scanning each Arrow table in place), so
publishing costs no second pass over the rows. SQLite stages in a local Parquet file first and
loads it at the commit: its write transaction would lock the whole database file, and a run may
read its leads from the same file it writes its scores to.

Publishing an upsert keeps the earlier rows whose key is not staged tonight, and never drops the
user's table (its grants, views and foreign keys stay). Where the rows can go straight into the
existing table, they do, in the same single transaction, so they are not copied twice: DuckDB
deletes each chunk's keys and inserts the chunk; PostgreSQL COPYs the night into a table without
a unique index and deletes the earlier rows of tonight's keys at the end. With a unique index on
the key PostgreSQL updates the rows in place from a temporary staging table (a foreign key to
them holds); see :mod:`leadscore.data.postgres_upsert` for its paths. SQLite deletes tonight's
keys and inserts the staged rows. A replacement, or a first night, renames the staging table.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
import pyarrow as pa
import sqlalchemy as sa

from leadscore.data.identifiers import quote_identifier
from leadscore.data.postgres_copy import CopyStream, create_table
from leadscore.data.postgres_upsert import MERGE_SINCE, delete_earlier, update_in_place, upsert_path
from leadscore.data.staging import STAGING
from leadscore.data.tables import (
    WRITES,
    duckdb_connection,
    duckdb_has_table,
    sql_engine,
    storage_reason,
)
from leadscore.data.writing import ParquetStage, Writer
from leadscore.errors import OutputError

# SET LOCAL for the publishing transaction only: a hash of a million keys fits, where the
# server's default (4 MB) split the joins of an upsert into batches written to disk
POSTGRES_WORK_MEM = "256MB"
CHUNK = "leadscore_chunk"  # the name a DuckDB statement reads an appended Arrow table by


class DatabaseWriter(Writer):
    """One database transaction, open from the first staged row to the publish (or rollback).

    The subclasses say how to run a statement, hold a transaction and fill the staging table;
    what publishing does is said once, here.
    """

    in_transaction = False
    direct = False  # tonight's rows go into the existing target itself, not a staging table

    def check(self) -> None:
        self.staging_name = f"{self.ref.name}{STAGING}"
        self.target, self.staging_table = self.ref.quoted, self.ref.sibling(STAGING).quoted
        self.begin()  # a table that can be made, and not kept: the right to write
        try:
            self.execute(f"DROP TABLE IF EXISTS {self.staging_table}")
            self.execute(f"CREATE TABLE {self.staging_table} (probe INTEGER)")
        finally:
            self.end(commit=False)

    @abstractmethod
    def begin(self) -> None:
        """Begin a transaction (sets :attr:`in_transaction`)."""

    @abstractmethod
    def end(self, *, commit: bool) -> None:
        """Commit or roll back the transaction, if one is open."""

    @abstractmethod
    def execute(self, sql: str) -> Any:
        """Run one statement in the transaction; its first value, if it returns rows."""

    @abstractmethod
    def create(self, schema: pa.Schema) -> None:
        """Create the staging table with ``schema``'s columns."""

    @abstractmethod
    def insert(self, table: pa.Table) -> None:
        """Add ``table``'s rows to the staging table."""

    @abstractmethod
    def table_exists(self) -> bool:
        """Whether the target table exists (inside the transaction)."""

    def stage(self, table: pa.Table) -> None:
        if not self.in_transaction:
            self.begin()
            self.start(table.schema)
        self.insert(table)

    def start(self, schema: pa.Schema) -> None:
        """Prepare the transaction for tonight's rows: a fresh staging table."""
        self.execute(f"DROP TABLE IF EXISTS {self.staging_table}")
        self.create(schema)

    def exists(self) -> bool:
        if self.in_transaction:
            self.finish_staging()
            return self.table_exists()
        self.begin()
        try:
            return self.table_exists()
        finally:
            self.end(commit=False)

    def drop(self) -> None:
        self.end(commit=False)

    def finish_staging(self) -> None:
        """End what fills the staging table, before another statement runs."""

    def publish(self) -> int:
        self.finish_staging()
        if self.direct:  # tonight's rows are in the target: what is there besides them was kept
            self.settle()
            kept = self.execute(f"SELECT count(*) FROM {self.target}") - self.rows
            self.end(commit=True)
            return int(kept)
        kept = 0
        target, staging = self.target, self.staging_table
        exists = self.table_exists()
        if exists and self.key is not None:
            columns = [quote_identifier(c) for c in self.staged_columns()]
            kept = self.upsert(quote_identifier(self.key), columns)
            self.execute(f"DROP TABLE {staging}")
        else:
            if exists:
                self.execute(f"DROP TABLE {target}")
            # the new name of a table in its schema is never qualified
            self.execute(f"ALTER TABLE {staging} RENAME TO {quote_identifier(self.ref.name)}")
        self.end(commit=True)
        return int(kept)

    def settle(self) -> None:
        """A direct write: remove the target's earlier rows of tonight's keys, if still there."""

    def staged_columns(self) -> list[str]:
        assert self.schema is not None, "publishing follows at least one staged table"
        return self.schema.names

    def upsert(self, key: str, columns: list[str]) -> int:
        """Replace the target's rows of tonight's keys by the staged rows; how many earlier
        rows were kept (what is left once tonight's keys are deleted, a plain count, where
        counting an anti-join first cost a second join)."""
        names, target, staging = ", ".join(columns), self.target, self.staging_table
        self.execute(self.delete_tonight(key))
        kept = self.execute(f"SELECT count(*) FROM {target}")
        self.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {staging}")
        return int(kept)

    def delete_tonight(self, key: str) -> str:
        """The statement deleting the target's rows whose key is staged tonight (a semi-join:
        ``NOT IN`` or a correlated subquery would run row by row)."""
        return f"DELETE FROM {self.target} WHERE {key} IN (SELECT {key} FROM {self.staging_table})"


class DuckDBWriter(DatabaseWriter):
    """Upserts into an existing table chunk by chunk: each chunk's keys deleted from the target
    and its rows inserted, in the one transaction (no staging table to copy again at the end).
    A night holds each key once (scoring quarantines a repeated lead): the rows kept are then
    the table's rows less tonight's."""

    def check(self) -> None:
        self.con = duckdb_connection(self.ref.location).cursor()
        super().check()

    def start(self, schema: pa.Schema) -> None:
        self.direct = self.key is not None and self.table_exists()
        if not self.direct:
            super().start(schema)

    def insert(self, table: pa.Table) -> None:
        if not self.direct:
            return self._with_chunk(
                table, f"INSERT INTO {self.staging_table} SELECT * FROM {CHUNK}"
            )
        if not table.num_rows:  # nothing to delete or add (and its key may have no type)
            return None
        key = quote_identifier(str(self.key))
        names = ", ".join(map(quote_identifier, table.schema.names))
        self._with_chunk(
            table, f"DELETE FROM {self.target} WHERE {key} IN (SELECT {key} FROM {CHUNK})"
        )
        self._with_chunk(table, f"INSERT INTO {self.target} ({names}) SELECT {names} FROM {CHUNK}")

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")
        self.in_transaction = True

    def end(self, *, commit: bool) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self.con.execute("COMMIT" if commit else "ROLLBACK")

    def execute(self, sql: str) -> Any:
        row = self.con.execute(sql).fetchone()
        return row[0] if row else None

    def create(self, schema: pa.Schema) -> None:
        statement = f"CREATE TABLE {self.staging_table} AS SELECT * FROM {CHUNK}"
        self._with_chunk(schema.empty_table(), statement)

    def _with_chunk(self, table: pa.Table, statement: str) -> None:
        """``statement`` reading ``table`` as :data:`CHUNK`: DuckDB scans the Arrow table in place
        (no copy first)."""
        self.con.register(CHUNK, table)
        try:
            self.con.execute(statement)
        finally:
            self.con.unregister(CHUNK)

    def table_exists(self) -> bool:
        return duckdb_has_table(self.con, self.ref)


class SQLWriter(DatabaseWriter):
    """PostgreSQL (COPY as the rows come) and SQLite (Parquet first), through SQLAlchemy."""

    def check(self) -> None:
        self.engine = sql_engine(self.ref.location)
        self.postgres = self.engine.dialect.name == "postgresql"
        super().check()
        self.parquet = None if self.postgres else ParquetStage(self.staging)

    copy: CopyStream | None = None  # PostgreSQL: the COPY filling the staging table

    def begin(self) -> None:
        self.conn = self.engine.connect().execution_options(**{WRITES: True})
        self.transaction = self.conn.begin()
        self.in_transaction = True

    def end(self, *, commit: bool) -> None:
        if not self.in_transaction:
            return
        self.in_transaction = False
        try:
            if self.copy is not None:  # a run that failed while staging
                copy, self.copy = self.copy, None
                # the COPY may have failed already (a value the server refuses): rolled back
                with suppress(psycopg.Error):
                    copy.close(OutputError(f"{self.ref}: the run stopped before its commit"))
            if commit:
                self.transaction.commit()
            else:  # a rollback that fails has lost its session, which the server rolled back:
                # not an error of its own, and raising it would hide the one that ended the run
                with suppress(sa.exc.SQLAlchemyError):
                    self.transaction.rollback()
        finally:
            self.conn.close()

    def execute(self, sql: str) -> Any:
        result = self.conn.execute(sa.text(sql))
        return result.scalar() if result.returns_rows else None

    def stage(self, table: pa.Table) -> None:
        if self.parquet is None:
            return super().stage(table)
        self.parquet.write(table)

    def drop(self) -> None:
        try:
            super().drop()
        finally:
            if self.parquet is not None:
                self.parquet.remove()

    def publish(self) -> int:
        if self.parquet is not None:  # SQLite: loaded only now, in the publishing transaction
            for table in self.parquet.tables():
                super().stage(table)
        return super().publish()

    in_place = False  # PostgreSQL upsert: a unique index on the key alone, rows updated in place

    def start(self, schema: pa.Schema) -> None:
        if not self.postgres:
            return super().start(schema)
        # timestamps are sent as UTC digits (see postgres_copy); the joins of an upsert on a
        # million keys hashed in memory rather than in batches spilled to disk
        self.execute("SET LOCAL TIME ZONE 'UTC'")
        self.execute(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
        if self.key is None or not self.table_exists():
            return super().start(schema)
        path = upsert_path(self.conn, self.target, self.key)
        self.in_place, self.direct = path == "in place", path == "copy"
        if not self.direct:  # a temporary table: not written to the server's WAL, and in no
            # schema of the user's (PostgreSQL puts it in the session's own)
            self.staging_table = quote_identifier(self.staging_name)
            names = ", ".join(map(quote_identifier, schema.names))
            self.execute(
                f"CREATE TEMPORARY TABLE {self.staging_table} AS"
                f" SELECT {names} FROM {self.target} WITH NO DATA"
            )
        return None

    def create(self, schema: pa.Schema) -> None:
        if self.postgres:
            return create_table(schema, self.conn, self.staging_name, in_schema=self.ref.schema)
        empty = schema.empty_table().to_pandas()
        empty.to_sql(self.staging_name, self.conn, schema=self.ref.schema, index=False)

    def insert(self, table: pa.Table) -> None:
        if self.postgres:  # COPY rather than row inserts
            if self.copy is None:
                into = self.target if self.direct else self.staging_table
                self.copy = CopyStream(self.conn, into, table.schema.names)
            with self.driver_errors():
                return self.copy.write(table)
        table.to_pandas().to_sql(
            self.staging_name, self.conn, schema=self.ref.schema, if_exists="append", index=False
        )

    def finish_staging(self) -> None:
        if self.copy is not None:
            copy, self.copy = self.copy, None
            with self.driver_errors():
                copy.close()

    @contextmanager
    def driver_errors(self) -> Iterator[None]:
        """psycopg's own errors (the COPY runs on the driver's cursor, past SQLAlchemy) as the
        :class:`OutputError` of any other failed write."""
        try:
            yield
        except psycopg.Error as exc:
            raise OutputError(f"{self.ref}: cannot be written ({storage_reason(exc)})") from exc

    def table_exists(self) -> bool:
        return sa.inspect(self.conn).has_table(self.ref.name, schema=self.ref.schema)

    def upsert(self, key: str, columns: list[str]) -> int:
        if not self.in_place:  # SQLite, or another unique index than the key's: delete, insert
            return super().upsert(key, columns)
        target, staging = self.target, self.staging_table
        merge = (self.engine.dialect.server_version_info or ()) >= MERGE_SINCE
        self.execute(update_in_place(target, staging, key, columns, merge=merge))
        # both refuse a key staged twice, so every staged row is one key of the target
        after, tonight = (self.execute(f"SELECT count(*) FROM {t}") for t in (target, staging))
        return int(after) - int(tonight)

    def settle(self) -> None:
        self.execute(delete_earlier(self.target, quote_identifier(str(self.key))))

    def delete_tonight(self, key: str) -> str:
        if not self.postgres:  # SQLite has no DELETE ... USING
            return super().delete_tonight(key)
        # a hash join: IN (subquery) first aggregates tonight's keys, a second pass over them
        staging = self.staging_table
        return (
            f"DELETE FROM {self.target} USING {staging} WHERE {self.target}.{key} = {staging}.{key}"
        )
