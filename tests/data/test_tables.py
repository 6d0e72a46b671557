"""Table URIs, chunked reads and id lookups on every kind of table (no model)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.data.lookups import row_lookup
from leadscore.data.tables import (
    count_rows,
    duckdb_connection,
    parse_table_uri,
    read_chunks,
)
from leadscore.errors import ConfigError, InputError
from support import TABLE_KINDS, table_uri, write_in_chunks


def test_uris_name_their_kind_and_hide_passwords():
    assert parse_table_uri("out/scores.parquet").kind == "parquet"
    duck = parse_table_uri("duckdb:///crm.duckdb#leads")
    assert (duck.kind, duck.location, duck.table) == ("duckdb", "crm.duckdb", "leads")
    pg = parse_table_uri("postgresql+psycopg://app:s3cret@db.internal/crm#leads")
    assert (pg.kind, pg.table) == ("sql", "leads") and "s3cret" not in str(pg)
    assert str(pg.sibling("_quarantine")).endswith("#leads_quarantine")
    assert parse_table_uri("n/s.csv").sibling("_quarantine").location == "n/s_quarantine.csv"
    with pytest.raises(ConfigError, match=r"unknown table format '\.xlsx'"):
        parse_table_uri("leads.xlsx")
    with pytest.raises(ConfigError, match="needs the table after '#'") as error:
        parse_table_uri("postgresql://app:s3cret@db/crm")
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_chunks_and_lookups_cover_the_table(kind, tmp_path):
    uri = table_uri(kind, tmp_path, "events")
    events = pd.DataFrame({"lead_id": ["a", "b", "a", "c", "d"], "n": ["1", "2", "3", "4", "5"]})
    write_in_chunks(uri, events, key=None)
    ref = parse_table_uri(uri)
    chunks = list(read_chunks(ref, 2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert count_rows(ref) in (5, None)  # CSV is not counted ahead
    with row_lookup(ref, "lead_id") as (lookup, total):
        assert sorted(lookup(["a", "d", "zz"])["n"].astype(str)) == ["1", "3", "5"]
        assert total in (5, None)


def test_integer_ids_in_a_database_are_found_by_their_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    pd.DataFrame({"lead_id": [10, 11, 12], "ts": ["x", "y", "z"]}).to_sql(
        "events", sa.create_engine(url), index=False
    )
    with row_lookup(parse_table_uri(f"{url}#events"), "lead_id") as (lookup, total):
        assert lookup(["11", "12", "L9"])["ts"].tolist() == ["y", "z"] and total == 3


HOSTILE = 'leads"; CREATE TABLE pwned (x INTEGER); --'


def test_a_duckdb_table_name_with_a_quote_is_one_name_never_a_statement(tmp_path):
    """Issue 34, item 4b: the readers did not double a ``"`` in a DuckDB table's name, so the
    rest of it ran as SQL. A missing name of that shape is a missing table; an existing one
    (names are the user's) is read as itself. Nothing is created either way."""
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE leads (lead_id VARCHAR)")
    missing = parse_table_uri(f"duckdb:///{database}#{HOSTILE}")
    with pytest.raises(InputError, match="no table"):
        list(read_chunks(missing, 10))
    odd = parse_table_uri(f"duckdb:///{database}#odd{HOSTILE}")
    write_in_chunks(str(odd), pd.DataFrame({"lead_id": ["a", "b"]}), key=None)
    assert count_rows(odd) == 2 and len(next(read_chunks(odd, 10))) == 2
    with row_lookup(odd, "lead_id") as (lookup, _):
        assert lookup(["a"])["lead_id"].tolist() == ["a"]
    duckdb_connection.cache_clear()  # the reader's connection holds the file
    with duckdb.connect(str(database)) as con:
        found = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    names = sorted(name for (name,) in found)
    assert names == ["leads", f"odd{HOSTILE}"]
