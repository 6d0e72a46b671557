"""Snapshots of a source table as one Parquet file: what the ``extract`` stage hands to DVC.

Training reads the same table URIs as scoring (:mod:`leadscore.data.tables`: Parquet and CSV
files, also on object storage that fsspec serves, DuckDB, any SQLAlchemy database), a chunk at a
time so memory stays bounded. Every chunk is written under one Arrow schema, fixed before the
first row: a file's own, or for a SQL table one derived from the database's column types, since
pandas would type a chunk whose integers are all NULL as floats and the next one as integers.
Database rows are read in a fixed order (by every column), so an unchanged table gives a
byte-identical file and DVC sees no change downstream.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from leadscore.data.delimited import read_csv_header
from leadscore.data.files import atomic_output, file_sha256
from leadscore.data.tables import (
    TableRef,
    duckdb_connection,
    parquet_file,
    python_type,
    read_chunks,
    require,
    sql_engine,
    sql_table,
)

_ARROW_TYPES: dict[type, pa.DataType] = {
    bool: pa.bool_(),
    int: pa.int64(),
    float: pa.float64(),
    decimal.Decimal: pa.float64(),
    dt.date: pa.date32(),
    str: pa.string(),
}


def snapshot_table(ref: TableRef, out: Path, *, chunk_size: int) -> dict:
    """Copy the table at ``ref`` into the Parquet file ``out``; its rows, columns and the
    SHA-256 of the file written (the same rows in the same order give the same digest)."""
    require(ref)
    schema, batches = arrow_batches(ref, chunk_size)
    rows = 0
    with atomic_output(out) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return {"rows": rows, "columns": len(schema), "sha256": file_sha256(out)}


def arrow_batches(ref: TableRef, chunk_size: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The table's schema and its rows as record batches of that schema."""
    if ref.kind == "parquet":
        parquet = parquet_file(ref)
        return parquet.schema_arrow, parquet.iter_batches(batch_size=chunk_size)
    if ref.kind == "csv":
        return _csv_batches(ref, chunk_size)
    if ref.kind == "duckdb":
        relation = duckdb_connection(ref.location).cursor().sql(f"SELECT * FROM {ref.quoted}")
        reader = relation.order("ALL").to_arrow_reader(chunk_size)
        return reader.schema, iter(reader)
    return _sql_batches(ref, chunk_size)


def _csv_batches(ref: TableRef, chunk_size: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Every column as text, only an empty cell missing: as :func:`read_chunks` reads a CSV."""
    schema = pa.schema([(name, pa.string()) for name in read_csv_header(ref.location)])
    batches = (
        batch
        for chunk in read_chunks(ref, chunk_size)
        for batch in pa.Table.from_pandas(chunk, schema=schema, preserve_index=False).to_batches()
    )
    return schema, batches


def _sql_batches(ref: TableRef, chunk_size: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    table = sql_table(ref)
    schema = pa.schema([(c.name, _arrow_type(c)) for c in table.columns])
    numbers = [f.name for f in schema if pa.types.is_floating(f.type)]

    def batches() -> Iterator[pa.RecordBatch]:
        engine = sql_engine(ref.location)
        streaming = engine.dialect.supports_server_side_cursors
        with engine.connect().execution_options(stream_results=streaming) as conn:
            query = sa.select(table).order_by(*table.columns)
            for chunk in pd.read_sql_query(query, conn, chunksize=chunk_size):
                chunk[numbers] = chunk[numbers].apply(pd.to_numeric)  # NUMERIC as Decimal
                yield from pa.Table.from_pandas(
                    chunk, schema=schema, preserve_index=False
                ).to_batches()

    return schema, batches()


def _arrow_type(column: sa.Column) -> pa.DataType:
    kind = python_type(column)
    if kind is dt.datetime:
        return pa.timestamp("us", tz="UTC" if getattr(column.type, "timezone", False) else None)
    return _ARROW_TYPES.get(kind, pa.string()) if kind is not None else pa.string()
