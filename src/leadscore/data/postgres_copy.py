"""Loading Arrow tables into PostgreSQL with COPY rather than row inserts.

pandas' ``to_sql`` sends PostgreSQL one parameterised INSERT per row batch, which costs a
round of parsing and planning per statement; ``COPY ... FROM STDIN`` streams the rows in one
statement for the whole run. Each Arrow table is written as CSV by pyarrow's C++ writer and
handed to psycopg's COPY protocol as bytes, so no Python object is made per row. A staging
table of a new table is still created by pandas (from zero rows), so its column types are
exactly those the row inserts made. The COPY runs on the writer's connection, inside the
transaction that publishes the rows: a run killed during it (into a staging table, or into an
upsert's target itself) leaves neither a staging table nor a changed target.

Arrow formats a timestamp with a time zone through the zone database, value by value (most of
the COPY's time on a scores table); the same instants without their zone are formatted as plain
UTC digits, and the transaction must read them in UTC (the writer's ``SET LOCAL TIME ZONE``,
which ends with it).

PostgreSQL's text cannot hold the NUL character at all (a quarantined cell may carry one, as the
value that made it bad): it is written as U+FFFD, the replacement character, so the row is kept
rather than the whole night failing.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter

from leadscore.data.identifiers import quote_identifier

OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


def create_table(
    schema: pa.Schema, conn: sa.Connection, table: str, *, in_schema: str | None = None
) -> None:
    """Create ``table`` (in the database schema ``in_schema``) with pandas' column types for
    ``schema``."""
    schema.empty_table().to_pandas().to_sql(table, conn, schema=in_schema, index=False)


class CopyStream:
    """One ``COPY ... FROM STDIN`` into ``table`` (a staging table, or an upsert's target;
    quoted, as :attr:`TableRef.quoted` gives it),
    held open across the chunks of a run and ended by :meth:`close`.

    One statement for the night rather than one per chunk: the server parses a chunk while the
    run scores the next one, where a COPY per chunk waited for the server at the end of each.
    psycopg's queued writer sends from a thread of its own, so :meth:`write` returns once the
    chunk is formatted. CSV keeps a missing value apart from an empty string: pyarrow writes a
    null as nothing and quotes every string, and PostgreSQL reads an unquoted empty field as
    NULL.
    """

    def __init__(self, conn: sa.Connection, table: str, columns: list[str]) -> None:
        names = ", ".join(map(quote_identifier, columns))
        statement = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)"
        driver = conn.connection.driver_connection  # psycopg's own, for its COPY protocol
        assert driver is not None, "a live connection has its driver's connection"
        cursor = driver.cursor()
        self.context = cursor.copy(statement, writer=QueuedLibpqWriter(cursor))
        self.copy = self.context.__enter__()

    def write(self, rows: pa.Table) -> None:
        buffer = io.BytesIO()
        pa_csv.write_csv(_for_postgres(rows), buffer, write_options=OPTIONS)
        self.copy.write(buffer.getbuffer())

    def close(self, error: BaseException | None = None) -> None:
        """End the COPY: every row in, or (``error``) none, the statement failing."""
        if error is None:
            self.context.__exit__(None, None, None)
        else:
            self.context.__exit__(type(error), error, error.__traceback__)


def _for_postgres(rows: pa.Table) -> pa.Table:
    """``rows`` as PostgreSQL takes them: each zoned timestamp column as the same instants in
    naive UTC, each NUL in text as U+FFFD."""
    return pa.Table.from_arrays([_column(c) for c in rows.columns], names=rows.schema.names)


def _column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        return column.cast(pa.timestamp(column.type.unit))
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.replace_substring(column, "\x00", "\ufffd")
    return column
