"""Where batch tables live: files, DuckDB or any SQLAlchemy database, named by one URI.

A table URI is one of

- a path ending in ``.parquet`` or ``.csv``;
- ``duckdb:///path/to/file.duckdb#table``;
- any SQLAlchemy URL with the table after ``#``, e.g. ``sqlite:///leads.db#leads`` or
  ``postgresql+psycopg://user:secret@host/crm#leads``.

Tables are read in chunks, so a nightly run's memory is bounded by the chunk size rather than by
the table, and written through a :class:`TableWriter` that stages the rows and commits them in
one step (a file moved into place, or one database transaction): a run killed half-way leaves
the previous table as it was, and the next run cleans up the staging it left behind.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Protocol

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import sqlalchemy as sa

from leadscore.errors import ConfigError, InputError, SchemaError

FILE_SUFFIXES = (".parquet", ".csv")
IN_LIST_BATCH = 10_000  # ids per `IN (...)` query: well below every driver's parameter limit
STAGING = "__staging"

RowLookup = Callable[[Sequence[str]], pd.DataFrame]


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
            return f"{shown}#{self.table}"
        return f"duckdb:///{self.location}#{self.table}" if self.kind == "duckdb" else self.location

    def sibling(self, suffix: str) -> TableRef:
        """The table named like this one plus ``suffix`` (quarantine, drift), in the same place."""
        if self.kind in ("parquet", "csv"):
            path = Path(self.location)
            return TableRef(self.kind, str(path.with_name(f"{path.stem}{suffix}{path.suffix}")))
        return TableRef(self.kind, self.location, f"{self.table}{suffix}")


def parse_table_uri(uri: str | Path) -> TableRef:
    """Parse a table URI; an unusable one is a bad argument (exit code 2), named in the error."""
    text = str(uri)
    if "://" not in text:
        suffix = Path(text).suffix
        if suffix not in FILE_SUFFIXES:
            raise ConfigError(
                f"{text}: unknown table format '{suffix}' (use .parquet, .csv, "
                "duckdb:///file.duckdb#table or a SQLAlchemy URL with #table)"
            )
        return TableRef(suffix.lstrip("."), text)
    location, _, table = text.partition("#")
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


def count_rows(ref: TableRef) -> int | None:
    """Rows in the table, when that is cheap to know (not for CSV); for progress and summaries."""
    _require(ref)
    if ref.kind == "parquet":
        return pq.ParquetFile(ref.location).metadata.num_rows
    if ref.kind == "csv":
        return None
    if ref.kind == "duckdb":
        return (
            _duckdb(ref.location).cursor().execute(f"SELECT count(*) FROM {_q(ref)}").fetchone()[0]
        )
    with _engine(ref.location).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(_sql_table(ref))).scalar_one()


def read_chunks(ref: TableRef, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The table's rows, ``chunk_size`` at a time, in storage order. CSV cells are read as text."""
    _require(ref)
    if ref.kind == "parquet":
        for batch in pq.ParquetFile(ref.location).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    elif ref.kind == "csv":
        yield from pd.read_csv(
            ref.location, dtype=str, keep_default_na=False, na_values=[""], chunksize=chunk_size
        )
    elif ref.kind == "duckdb":
        relation = _duckdb(ref.location).cursor().sql(f"SELECT * FROM {_q(ref)}")
        for batch in relation.to_arrow_reader(chunk_size):
            yield batch.to_pandas()
    else:
        engine = _engine(ref.location)
        streaming = engine.dialect.supports_server_side_cursors
        with engine.connect().execution_options(stream_results=streaming) as conn:
            query = sa.select(_sql_table(ref))
            yield from pd.read_sql_query(query, conn, chunksize=chunk_size)


def read_all(ref: TableRef) -> pd.DataFrame:
    """The whole table (for small tables such as an earlier run's output in tests and tools)."""
    frames = list(read_chunks(ref, 1_000_000))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@contextmanager
def row_lookup(ref: TableRef, column: str) -> Iterator[tuple[RowLookup, int | None]]:
    """A function returning the rows whose ``column`` is in a set of ids, and the table's size.

    Each chunk of leads fetches only its own events this way. A CSV log is first converted to a
    temporary Parquet file (streamed, so memory stays bounded) because CSV cannot be filtered
    without reading it whole each time.
    """
    _require(ref)
    if ref.kind == "csv":
        with TemporaryDirectory(prefix="leadscore-") as tmp:
            converted = _csv_to_parquet(Path(ref.location), Path(tmp) / "events.parquet")
            with row_lookup(converted, column) as lookup:
                yield lookup
        return
    if ref.kind == "parquet":
        lookup = parquet_lookup([ref.location], column)
    elif ref.kind == "duckdb":
        cursor = _duckdb(ref.location).cursor()
        _require_column(
            ref,
            column,
            [d[0] for d in cursor.execute(f"SELECT * FROM {_q(ref)} LIMIT 0").description],
        )

        def lookup(ids: Sequence[str]) -> pd.DataFrame:
            cursor.register("wanted", pa.table({"id": pa.array(ids, pa.string())}))
            try:
                return cursor.execute(
                    f'SELECT * FROM {_q(ref)} WHERE CAST("{column}" AS VARCHAR) IN '
                    "(SELECT id FROM wanted)"
                ).df()
            finally:
                cursor.unregister("wanted")

    else:
        table = _sql_table(ref)
        _require_column(ref, column, table.columns.keys())
        key = table.c[column]
        as_int = _python_type(key) is int

        def lookup(ids: Sequence[str]) -> pd.DataFrame:
            values = [int(i) for i in ids if i.lstrip("-").isdigit()] if as_int else list(ids)
            with _engine(ref.location).connect() as conn:
                frames = [
                    pd.read_sql_query(
                        sa.select(table).where(key.in_(values[i : i + IN_LIST_BATCH])), conn
                    )
                    for i in range(0, len(values), IN_LIST_BATCH)
                ]
            if not frames:
                return pd.DataFrame(columns=table.columns.keys())
            return pd.concat(frames, ignore_index=True)

    yield lookup, count_rows(ref)


def parquet_lookup(paths: Sequence[str], column: str) -> RowLookup:
    """:func:`row_lookup` over one or more Parquet files (or folders) read as one table: the rows
    whose ``column``, as text, is one of the ids.

    DuckDB's semi-join scans the files in parallel, about twice as fast as a pyarrow dataset
    filter; rows come back in file and row order, so a lead's events always reach the features
    in the same order and give bit-identical sums.
    """
    names = ds.dataset(list(paths), format="parquet").schema.names
    _require_column(TableRef("parquet", ", ".join(paths)), column, names)
    patterns = [str(Path(p) / "**" / "*.parquet") if Path(p).is_dir() else p for p in paths]
    cursor = duckdb.connect().cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    files = ", ".join(_literal(p) for p in patterns)
    source = f"read_parquet([{files}], filename = true, file_row_number = true)"

    def lookup(ids: Sequence[str]) -> pd.DataFrame:
        cursor.register("wanted", pa.table({"id": pa.array(ids, pa.string())}))
        try:
            rows = cursor.sql(
                f"SELECT * FROM {source} WHERE CAST({_name(column)} AS VARCHAR) IN "
                "(SELECT id FROM wanted) ORDER BY filename, file_row_number"
            ).to_arrow_table()
        finally:
            cursor.unregister("wanted")
        return rows.drop_columns(["filename", "file_row_number"]).to_pandas()

    return lookup


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


class _Staged:
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
        self.writer.close()
        return pq.ParquetFile(self.staging)

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
        self.staging_name = f"{ref.table}{STAGING}"
        self.target, self.staging_table = self.quote(ref.table), self.quote(self.staging_name)

    def discard(self) -> None:
        super().discard()
        shutil.rmtree(self.staging.parent, ignore_errors=True)

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
                    kept = execute(f"SELECT count(*) FROM {target} WHERE {key} NOT IN ({tonight})")
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
        self.con = _duckdb(ref.location).cursor()
        super().__init__(ref, empty, key)

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def load(self, staged: pq.ParquetFile, execute: Callable[[str], object]) -> None:
        path = str(self.staging).replace("'", "''")
        execute(f"CREATE TABLE {self.staging_table} AS SELECT * FROM read_parquet('{path}')")

    def exists(self) -> bool:
        return (self.ref.table,) in self.con.execute("SHOW TABLES").fetchall()

    @contextmanager
    def transaction(self) -> Iterator[Callable[[str], object]]:
        def execute(sql: str) -> object:
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
        self.engine = _engine(ref.location)
        super().__init__(ref, empty, key)

    def quote(self, name: str) -> str:
        return self.engine.dialect.identifier_preparer.quote(name)

    def load(self, staged: pq.ParquetFile, execute: Callable[[str], object]) -> None:
        for batch in staged.iter_batches():
            batch.to_pandas().to_sql(self.staging_name, self.conn, if_exists="append", index=False)

    def exists(self) -> bool:
        return sa.inspect(self.conn).has_table(self.ref.table)

    @contextmanager
    def transaction(self) -> Iterator[Callable[[str], object]]:
        with self.engine.begin() as conn:
            self.conn = conn

            def execute(sql: str) -> object:
                result = conn.execute(sa.text(sql))
                return result.scalar() if result.returns_rows else None

            yield execute


def _require(ref: TableRef) -> None:
    """Fail with "unreadable input" (exit code 3) before any work when a table is not there."""
    if ref.kind in ("parquet", "csv"):
        if not Path(ref.location).exists():
            raise InputError(f"{ref}: no such file")
        return
    if ref.kind == "duckdb":
        if not Path(ref.location).exists():
            raise InputError(f"{ref}: no such DuckDB file")
        tables = _duckdb(ref.location).cursor().execute("SHOW TABLES").fetchall()
        if (ref.table,) not in tables:
            raise InputError(f"{ref}: no table '{ref.table}' in the DuckDB file")
        return
    try:
        with _engine(ref.location).connect() as conn:
            found = sa.inspect(conn).has_table(ref.table)
    except sa.exc.SQLAlchemyError as exc:
        raise InputError(f"{ref}: cannot connect ({type(exc).__name__})") from exc
    if not found:
        raise InputError(f"{ref}: no table '{ref.table}' in the database")


def _require_column(ref: TableRef, column: str, columns: Sequence[str]) -> None:
    if column not in columns:
        raise SchemaError(f"{ref}: no column '{column}' (found: {', '.join(columns)})")


def _csv_to_parquet(source: Path, target: Path) -> TableRef:
    """Stream a CSV into Parquet with every column as text, as :func:`read_chunks` reads it."""
    header = pd.read_csv(source, nrows=0).columns
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header}, strings_can_be_null=True
    )
    reader = pacsv.open_csv(source, convert_options=options)
    with pq.ParquetWriter(target, reader.schema) as out:
        for batch in reader:
            out.write_batch(batch)
    return TableRef("parquet", str(target))


def _q(ref: TableRef) -> str:
    return f'"{ref.table}"'


def _name(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _python_type(column: sa.Column) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


@functools.cache
def _duckdb(path: str) -> duckdb.DuckDBPyConnection:
    """One connection per DuckDB file for the process: DuckDB refuses a second one with other
    settings, and tonight's leads and scores may well live in the same file."""
    return duckdb.connect(path)


@functools.cache
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url)


def _sql_table(ref: TableRef) -> sa.Table:
    return sa.Table(ref.table, sa.MetaData(), autoload_with=_engine(ref.location))
