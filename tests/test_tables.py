"""Table URIs, chunked reads, id lookups and staged upserts on every kind of table (no model)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.errors import ConfigError
from leadscore.tables import (
    count_rows,
    open_writer,
    parse_table_uri,
    read_all,
    read_chunks,
    row_lookup,
)

KINDS = ["parquet", "csv", "duckdb", "sqlite"]


def _uri(kind: str, folder, name: str) -> str:
    if kind in ("parquet", "csv"):
        return str(folder / f"{name}.{kind}")
    return f"duckdb:///{folder / 'db.duckdb'}#{name}" if kind == "duckdb" else (
        f"sqlite:///{folder / 'db.sqlite'}#{name}")  # fmt: skip


def _night(ids: list[str], value: float) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": ids, "probability": [value] * len(ids)})


def _write(uri: str, frame: pd.DataFrame, key: str | None = "lead_id") -> int:
    writer = open_writer(parse_table_uri(uri), frame.iloc[:0], key)
    for start in range(0, len(frame), 2):  # in chunks, as a nightly run appends
        writer.append(frame.iloc[start : start + 2])
    return writer.commit()


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


@pytest.mark.parametrize("kind", KINDS)
def test_upsert_replaces_reruns_and_keeps_other_leads(kind, tmp_path):
    uri = _uri(kind, tmp_path, "scores")
    assert _write(uri, _night(["a", "b", "c"], 0.1)) == 0
    assert _write(uri, _night(["a", "b", "c"], 0.1)) == 0  # the same night again
    assert _write(uri, _night(["c", "d"], 0.7)) == 2
    table = read_all(parse_table_uri(uri)).sort_values("lead_id")
    assert table["lead_id"].tolist() == ["a", "b", "c", "d"]
    assert table["probability"].astype(float).tolist() == [0.1, 0.1, 0.7, 0.7]
    assert _write(uri, _night(["z"], 0.5), key=None) == 0  # replace, as the quarantine does
    assert read_all(parse_table_uri(uri))["lead_id"].tolist() == ["z"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_discarded_run_changes_nothing_and_leaves_no_staging(kind, tmp_path):
    uri = _uri(kind, tmp_path, "scores")
    _write(uri, _night(["a"], 0.1))
    before = sorted(p.name for p in tmp_path.iterdir())
    writer = open_writer(parse_table_uri(uri), _night([], 0.0), "lead_id")
    writer.append(_night(["a", "b"], 0.9))
    writer.discard()  # what a failed run does
    assert read_all(parse_table_uri(uri))["lead_id"].tolist() == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("kind", KINDS)
def test_chunks_and_lookups_cover_the_table(kind, tmp_path):
    uri = _uri(kind, tmp_path, "events")
    events = pd.DataFrame({"lead_id": ["a", "b", "a", "c", "d"], "n": ["1", "2", "3", "4", "5"]})
    _write(uri, events, key=None)
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
