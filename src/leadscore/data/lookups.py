"""A chunk's own rows of another table: the events of tonight's leads, fetched by lead id
from a file, DuckDB or a SQL database, so a night never holds the whole event log."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import sqlalchemy as sa

from leadscore.data.delimited import read_csv_chunks, read_csv_header
from leadscore.data.identifiers import quote_identifier
from leadscore.data.schema import require_unique_names
from leadscore.data.tables import (
    TableRef,
    count_rows,
    duckdb_connection,
    python_type,
    require,
    require_column,
    sql_engine,
    sql_table,
    unreadable,
)

IN_LIST_BATCH = 10_000  # ids per `IN (...)` query: well below every driver's parameter limit

RowLookup = Callable[[Sequence[str]], pd.DataFrame]


@contextmanager
def row_lookup(ref: TableRef, column: str) -> Iterator[tuple[RowLookup, int | None]]:
    """A function returning the rows whose ``column`` is in a set of ids, and the table's size.

    Each chunk of leads fetches only its own events this way. A CSV log is first converted to a
    temporary Parquet file (streamed, so memory stays bounded) because CSV cannot be filtered
    without reading it whole each time.
    """
    require(ref)
    if ref.kind == "csv":
        with TemporaryDirectory(prefix="leadscore-") as tmp:
            converted = _csv_to_parquet(ref.location, Path(tmp) / "events.parquet")
            with row_lookup(converted, column) as found:
                yield found
        return
    with unreadable(ref):
        if ref.kind == "parquet":
            lookup = parquet_lookup([ref.location], column)
        else:
            lookup = (_duckdb_lookup if ref.kind == "duckdb" else _sql_lookup)(ref, column)

    def guarded(ids: Sequence[str]) -> pd.DataFrame:
        with unreadable(ref):
            return lookup(ids)

    yield guarded, count_rows(ref)


def _duckdb_lookup(ref: TableRef, column: str) -> RowLookup:
    cursor = duckdb_connection(ref.location).cursor()
    described = cursor.execute(f"SELECT * FROM {ref.quoted} LIMIT 0").description
    require_column(ref, column, [d[0] for d in described])

    def lookup(ids: Sequence[str]) -> pd.DataFrame:
        cursor.register("wanted", pa.table({"id": pa.array(ids, pa.string())}))
        try:
            return cursor.execute(
                f"SELECT * FROM {ref.quoted} WHERE CAST({quote_identifier(column)} AS VARCHAR) IN "
                "(SELECT id FROM wanted)"
            ).df()
        finally:
            cursor.unregister("wanted")

    return lookup


def _sql_lookup(ref: TableRef, column: str) -> RowLookup:
    """Ids go to the database as ``IN`` lists, as numbers when the key column is an integer."""
    table = sql_table(ref)
    require_column(ref, column, table.columns.keys())
    key = table.c[column]
    as_int = python_type(key) is int

    def lookup(ids: Sequence[str]) -> pd.DataFrame:
        values = [int(i) for i in ids if i.lstrip("-").isdigit()] if as_int else list(ids)
        with sql_engine(ref.location).connect() as conn:
            frames = [
                pd.read_sql_query(
                    sa.select(table).where(key.in_(values[i : i + IN_LIST_BATCH])), conn
                )
                for i in range(0, len(values), IN_LIST_BATCH)
            ]
        if not frames:
            return pd.DataFrame(columns=table.columns.keys())
        return pd.concat(frames, ignore_index=True)

    return lookup


def parquet_lookup(paths: Sequence[str], column: str) -> RowLookup:
    """:func:`row_lookup` over one or more Parquet files (or folders) read as one table: the rows
    whose ``column``, as text, is one of the ids.

    DuckDB's semi-join scans the files in parallel, about twice as fast as a pyarrow dataset
    filter; rows come back in file and row order, so a lead's events always reach the features
    in the same order and give bit-identical sums. Each lookup has an in-memory DuckDB of its
    own, closed once the rows are out: DuckDB keeps what a scan allocated until its database
    closes, which one database for the night would hold all night, and opening one costs far
    less than the scan (figures: the docs' results page, batch scoring).
    """
    names = ds.dataset(list(paths), format="parquet").schema.names
    require_unique_names(names, ", ".join(paths), holder="the schema")
    require_column(TableRef("parquet", ", ".join(paths)), column, names)
    patterns = [str(Path(p) / "**" / "*.parquet") if Path(p).is_dir() else p for p in paths]
    files = ", ".join(_literal(p) for p in patterns)
    source = f"read_parquet([{files}], filename = true, file_row_number = true)"

    def lookup(ids: Sequence[str]) -> pd.DataFrame:
        with duckdb.connect() as connection:
            connection.execute("SET TimeZone = 'UTC'")
            connection.register("wanted", pa.table({"id": pa.array(ids, pa.string())}))
            rows = connection.sql(
                f"SELECT * FROM {source} WHERE CAST({quote_identifier(column)} AS VARCHAR) IN "
                "(SELECT id FROM wanted) ORDER BY filename, file_row_number"
            ).to_arrow_table()
        return rows.drop_columns(["filename", "file_row_number"]).to_pandas()

    return lookup


def _csv_to_parquet(source: str, target: Path) -> TableRef:
    """Stream a CSV into Parquet with every column as text, as :func:`read_chunks` reads it."""
    schema = pa.schema([(name, pa.string()) for name in read_csv_header(source)])
    with pq.ParquetWriter(target, schema) as out:
        for chunk in read_csv_chunks(source, 100_000):
            out.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
    return TableRef("parquet", str(target))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
