"""SQL identifiers, quoted in one place for every reader and writer.

Table and column names come from the user (a URI's ``#schema.table``, a table's own columns),
so they are always quoted and a ``"`` in them is doubled: ``leads"; CREATE TABLE x; --`` is
then one strange name, not a second statement. DuckDB, SQLite and PostgreSQL all quote with
double quotes.
"""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """``name`` as one quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_table(schema: str | None, name: str) -> str:
    """A table's quoted name, qualified by its schema when it has one."""
    quoted = quote_identifier(name)
    return quoted if schema is None else f"{quote_identifier(schema)}.{quoted}"


def split_table(text: str) -> tuple[str | None, str]:
    """The schema and name of a URI's ``schema.table`` (no schema: the database's default)."""
    schema, dot, name = text.partition(".")
    return (schema, name) if dot and schema and name else (None, text)
