"""Where batch tables live: files, DuckDB or any SQLAlchemy database, named by one URI.

A table URI is one of

- a path ending in ``.parquet`` or ``.csv``;
- ``duckdb:///path/to/file.duckdb#table``;
- any SQLAlchemy URL with the table after ``#``, e.g. ``sqlite:///leads.db#leads`` or
  ``postgresql+psycopg://user:secret@host/crm#leads``.

A database table may be qualified by its schema, ``#crm.leads``; without one it is in the
database's default schema. Sibling tables (quarantine, runs, staging) go to the same schema.

Tables are read in chunks, so a nightly run's memory is bounded by the chunk size rather than by
the table; :mod:`leadscore.data.lookups` fetches a chunk's events, :mod:`leadscore.data.writers`
writes them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from leadscore.data.delimited import read_csv_chunks
from leadscore.data.identifiers import quote_table, split_table
from leadscore.data.schema import require_unique_names
from leadscore.errors import ConfigError, InputError, LeadscoreError, SchemaError
from leadscore.redaction import redact

FILE_SUFFIXES = (".parquet", ".csv")
SQLITE_BUSY_SECONDS = 600  # how long a SQLite writer waits for another run's publish to end
WRITES = "leadscore_writes"  # the execution option of a connection that writes (SQLite)

# what the libraries raise when a table cannot be read (or written): a file that is not what
# its name says, a database that went away, a file another process holds
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    pa.ArrowException,
    duckdb.Error,
    sa.exc.SQLAlchemyError,
)


@dataclass(frozen=True)
class TableRef:
    """A parsed table URI: ``kind`` is parquet, csv, duckdb or sql."""

    kind: str
    location: str
    table: str | None = None

    def __str__(self) -> str:
        """The URI without its password, safe for logs and summaries."""
        if self.kind == "sql":
            shown = sa.make_url(self.location).render_as_string(hide_password=True)
            return f"{redact(shown)}#{self.table}"
        if self.kind == "duckdb":
            return f"duckdb:///{self.location}#{self.table}"
        return redact(self.location)  # an object-store URL may carry a token

    @property
    def schema(self) -> str | None:
        """The schema of a ``#schema.table`` (DuckDB and SQL tables); None: the default one."""
        return split_table(self._table_text())[0]

    @property
    def name(self) -> str:
        """The table's name inside its schema (DuckDB and SQL tables only)."""
        return split_table(self._table_text())[1]

    @property
    def quoted(self) -> str:
        """The table's name for SQL: quoted, and qualified by its schema if it has one."""
        return quote_table(self.schema, self.name)

    def _table_text(self) -> str:
        if self.table is None:
            raise ValueError(f"{self}: a {self.kind} file has no table name")
        return self.table

    def sibling(self, suffix: str) -> TableRef:
        """The table named like this one plus ``suffix`` (quarantine, drift), in the same place."""
        if self.kind in ("parquet", "csv"):
            path = Path(self.location)
            return TableRef(self.kind, str(path.with_name(f"{path.stem}{suffix}{path.suffix}")))
        return TableRef(self.kind, self.location, f"{self.table}{suffix}")


def parse_table_uri(uri: str | Path) -> TableRef:
    """Parse a table URI; an unusable one is a bad argument (exit code 2), named in the error.

    A file may also be a URL that fsspec serves (``file://``, ``s3://`` with s3fs installed).
    """
    text = str(uri)
    scheme = text.split("://")[0] if "://" in text else None
    if scheme in fsspec.available_protocols() and Path(text).suffix in FILE_SUFFIXES:
        return TableRef(Path(text).suffix.lstrip("."), text)
    if "://" not in text:
        suffix = Path(text).suffix
        if suffix not in FILE_SUFFIXES:
            raise ConfigError(
                f"{text}: unknown table format '{suffix}' (use .parquet, .csv, "
                "duckdb:///file.duckdb#table or a SQLAlchemy URL with #table)"
            )
        return TableRef(suffix.lstrip("."), text)
    location, _, table = text.partition("#")
    _check_unencoded(location, table)
    if location.startswith("duckdb:///"):
        ref = TableRef("duckdb", location.removeprefix("duckdb:///"), table)
    else:
        try:
            sa.make_url(location)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"{location.split('://')[0]}://...: not a database URL") from exc
        ref = TableRef("sql", location, table)
    if not table:
        raise ConfigError(f"{ref}: a database URI needs the table after '#', e.g. ...#leads")
    return ref


def _check_unencoded(location: str, table: str) -> None:
    """A ``#`` or ``@`` inside a password must be percent-encoded (``%23``, ``%40``): unencoded,
    the URI splits in the wrong place and the error would show part of the password, so this
    one names the rule and quotes nothing."""
    authority = location.partition("://")[2].partition("?")[0]
    if authority.count("@") > 1 or any(c in table for c in "@#"):
        raise ConfigError(
            f"{location.partition('://')[0]}://...: the URI does not parse as "
            "scheme://user:password@host/database#table; percent-encode a '#' in the password "
            "as %23, an '@' as %40 and a '/' as %2F (or give the password in the environment, "
            "e.g. PGPASSWORD)"
        )


def count_rows(ref: TableRef) -> int | None:
    """Rows in the table, when that is cheap to know (not for CSV); for progress and summaries."""
    require(ref)
    if ref.kind == "csv":
        return None
    with unreadable(ref):
        if ref.kind == "parquet":
            return parquet_file(ref).metadata.num_rows
        if ref.kind == "duckdb":
            cursor = duckdb_connection(ref.location).cursor()
            row = cursor.execute(f"SELECT count(*) FROM {ref.quoted}").fetchone()
            return int(row[0]) if row else 0
        with sql_engine(ref.location).connect() as conn:
            query = sa.select(sa.func.count()).select_from(sql_table(ref))
            return conn.execute(query).scalar_one()


def read_chunks(ref: TableRef, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The table's rows, ``chunk_size`` at a time, in storage order. CSV cells are read as text,
    strictly (see :mod:`leadscore.data.delimited`). A table that stops being readable half-way
    is an :class:`InputError` too."""
    require(ref)
    with unreadable(ref):
        yield from _chunks(ref, chunk_size)


def _chunks(ref: TableRef, chunk_size: int) -> Iterator[pd.DataFrame]:
    if ref.kind == "parquet":
        for batch in parquet_file(ref).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    elif ref.kind == "csv":
        yield from read_csv_chunks(ref.location, chunk_size)
    elif ref.kind == "duckdb":
        relation = duckdb_connection(ref.location).cursor().sql(f"SELECT * FROM {ref.quoted}")
        for batch in relation.to_arrow_reader(chunk_size):
            yield batch.to_pandas()
    else:
        engine = sql_engine(ref.location)
        streaming = engine.dialect.supports_server_side_cursors
        with engine.connect().execution_options(stream_results=streaming) as conn:
            query = sa.select(sql_table(ref))
            yield from pd.read_sql_query(query, conn, chunksize=chunk_size)


def unreadable(ref: TableRef) -> AbstractContextManager[None]:
    """What the storage libraries raise while reading ``ref``, as one :class:`InputError` line
    (exit code 3) that names the table and the reason."""
    return as_error(ref, InputError, "cannot be read")


@contextmanager
def as_error(ref: TableRef, kind: type[LeadscoreError], what: str) -> Iterator[None]:
    try:
        yield
    except LeadscoreError:
        raise
    except STORAGE_ERRORS as exc:
        raise kind(f"{ref}: {what} ({storage_reason(exc)})") from exc


def storage_reason(exc: BaseException) -> str:
    """The first line of a storage library's error, without SQLAlchemy's advice link."""
    original = getattr(exc, "orig", None) or exc
    text = getattr(original, "strerror", None) or str(original) or type(original).__name__
    first = text.strip().splitlines()[0] if text.strip() else type(original).__name__
    return f"{type(original).__name__}: {first}"[:300]


def read_all(ref: TableRef) -> pd.DataFrame:
    """The whole table (for small tables such as an earlier run's output in tests and tools)."""
    frames = list(read_chunks(ref, 1_000_000))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def parquet_file(ref: TableRef) -> pq.ParquetFile:
    """A Parquet file by path, or by a URL that fsspec serves; one whose schema names a
    column twice is refused as a CSV header that does is."""
    opened = pq.ParquetFile(fsspec.open(ref.location, "rb").open())
    require_unique_names(opened.schema_arrow.names, ref.location, holder="the schema")
    return opened


def require(ref: TableRef) -> None:
    """Fail with "unreadable input" (exit code 3) before any work when a table is not there."""
    if ref.kind in ("parquet", "csv"):
        with unreadable(ref):
            filesystem, path = fsspec.core.url_to_fs(ref.location)
            if not filesystem.exists(path):
                raise InputError(f"{ref}: no such file")
            if filesystem.isdir(path):
                raise InputError(f"{ref}: a folder, not a {ref.kind} file")
        return
    if ref.kind == "duckdb":
        if not Path(ref.location).is_file():
            raise InputError(f"{ref}: no such DuckDB file")
        with unreadable(ref):
            found = duckdb_has_table(duckdb_connection(ref.location).cursor(), ref)
        if not found:
            raise InputError(f"{ref}: no table '{ref.table}' in the DuckDB file")
        return
    try:
        with sql_engine(ref.location).connect() as conn:
            found = sa.inspect(conn).has_table(ref.name, schema=ref.schema)
    except sa.exc.SQLAlchemyError as exc:
        raise InputError(f"{ref}: cannot connect ({type(exc).__name__})") from exc
    if not found:
        raise InputError(f"{ref}: no table '{ref.table}' in the database")


def require_column(ref: TableRef, column: str, columns: Sequence[str]) -> None:
    if column not in columns:
        raise SchemaError(f"{ref}: no column '{column}' (found: {', '.join(columns)})")


def duckdb_has_table(cursor: duckdb.DuckDBPyConnection, ref: TableRef) -> bool:
    """Whether a DuckDB table (or view) exists, in its schema or the current one."""
    query = (
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = coalesce(?, current_schema()) AND table_name = ?"
    )
    return bool(cursor.execute(query, [ref.schema, ref.name]).fetchall()[0][0])


def python_type(column: sa.Column) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


@functools.cache
def duckdb_connection(path: str) -> duckdb.DuckDBPyConnection:
    """One connection per DuckDB file for the process: DuckDB refuses a second one with other
    settings, and tonight's leads and scores may well live in the same file."""
    return duckdb.connect(path)


@functools.cache
def sql_engine(url: str) -> sa.Engine:
    """The engine of a database URL; for SQLite, one whose transactions hold DDL too.

    Python's sqlite3 driver begins a transaction only before INSERT, UPDATE or DELETE and
    commits before anything else, so a ``DROP TABLE`` would be done at once, whatever happens
    to the transaction after it. SQLAlchemy's recipe for the driver hands the transaction to
    SQLite itself: the driver emits nothing, and each SQLAlchemy transaction begins with
    ``BEGIN``, so a failed publish is rolled back whole, DDL included.

    Two runs may publish into one SQLite file (different tables) at once. A writer's
    transaction (a connection with the execution option :data:`WRITES`) begins ``IMMEDIATE``,
    taking the file's write lock first, and waits up to :data:`SQLITE_BUSY_SECONDS` for
    another's to end: a plain ``BEGIN`` reads first and then cannot take the lock while another
    transaction commits, which SQLite reports at once as "database is locked".
    """
    sqlite = url.startswith("sqlite")
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS} if sqlite else {})
    if engine.dialect.name == "sqlite" and engine.dialect.driver == "pysqlite":

        @sa.event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            writes = conn.get_execution_options().get(WRITES, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def sql_table(ref: TableRef) -> sa.Table:
    return sa.Table(
        ref.name, sa.MetaData(), schema=ref.schema, autoload_with=sql_engine(ref.location)
    )
