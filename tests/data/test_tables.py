"""Table URIs, chunked reads and id lookups on every kind of table (no model)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.data.tables import count_rows, parse_table_uri, read_chunks, row_lookup
from leadscore.errors import ConfigError
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
