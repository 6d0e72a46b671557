"""The PostgreSQL writer loads its staging table with COPY and keeps the writer's promises:
every value as it was, a rerun changes nothing, a run killed during the COPY changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore import errors
from leadscore.data import database_writers, postgres_upsert
from leadscore.data.tables import parse_table_uri, read_all
from leadscore.data.writers import open_writer
from support import write_in_chunks

POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")


@pytest.fixture
def table():
    """A fresh table name on the test server, dropped (with its staging table) afterwards."""
    if not POSTGRES_URL:
        message = "LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    name = f"copy_{uuid.uuid4().hex[:8]}"
    yield name
    with sa.create_engine(POSTGRES_URL).begin() as conn:
        for each in (name, f"{name}__staging"):
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{each}"'))


def _awkward(ids: list[str], value: float) -> pd.DataFrame:
    """Rows with what CSV could get wrong: separators, quotes, line breaks, an empty string
    beside a missing one, full-precision floats, timestamps with time zone."""
    n = len(ids)
    text = ["plain", 'a, "quoted" word', "two\nlines", "", None, "back\\slash"]
    return pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="str"),
            "as_of": pd.Timestamp("2026-10-01T02:03:04.123456", tz="UTC"),
            "probability": value + np.arange(n) / 3.0,
            "score": np.arange(n, dtype="int64"),
            "reasons": pd.array([text[i % len(text)] for i in range(n)], dtype="str"),
        }
    )


def _read(uri: str) -> pd.DataFrame:
    return read_all(parse_table_uri(uri)).sort_values("lead_id").reset_index(drop=True)


def test_copy_keeps_every_value_and_a_rerun_changes_nothing(table):
    # a session clock other than UTC: the COPY's timestamps must still land on their instants
    joiner = "&" if "?" in str(POSTGRES_URL) else "?"
    uri = f"{POSTGRES_URL}{joiner}options=-ctimezone%3DAsia/Kolkata#{table}"
    night = _awkward([f"L{i:02d}" for i in range(12)], 0.1)
    assert write_in_chunks(uri, night) == 0
    first = _read(uri)
    assert write_in_chunks(uri, night) == 0  # the same night again
    pd.testing.assert_frame_equal(_read(uri), first)
    assert first["lead_id"].tolist() == night["lead_id"].tolist()
    np.testing.assert_array_equal(first["probability"].to_numpy(), night["probability"].to_numpy())
    assert first["score"].tolist() == night["score"].tolist()
    missing = night["reasons"].isna()
    assert first["reasons"].isna().tolist() == missing.tolist()  # NULL stays NULL, "" stays ""
    assert first["reasons"][~missing].tolist() == night["reasons"][~missing].tolist()
    assert (pd.to_datetime(first["as_of"], utc=True) == night["as_of"]).all()
    later = _awkward(["L10", "L11", "L12"], 0.7)  # two leads again, one new
    assert write_in_chunks(uri, later) == 10
    table_now = _read(uri)
    assert table_now["lead_id"].tolist() == [f"L{i:02d}" for i in range(13)]
    assert table_now["probability"].tolist()[10:] == later["probability"].tolist()


# A child that stages rows and commits them through the writer.
CHILD = """
import sys
import numpy as np, pandas as pd
from leadscore.data.tables import parse_table_uri
from leadscore.data.writers import open_writer
rows = 200_000
night = pd.DataFrame({"lead_id": pd.array([f"N{i:08d}" for i in range(rows)], dtype="str"),
                      "probability": np.full(rows, 0.9), "reasons": "new lead"})
writer = open_writer(parse_table_uri(sys.argv[1]), night.iloc[:0], "lead_id")
writer.append(night)
writer.commit()
"""


def _waiting(engine: sa.Engine, table: str) -> int:
    """How many server backends wait for a lock on a statement naming ``table``."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE :pattern"
    )
    with engine.connect() as conn:
        return int(conn.execute(sa.text(query), {"pattern": f"%{table}%"}).scalar())


# how the target is made before the first night: each gives the upsert another path
TARGETS = {
    "no unique index": None,  # tonight's rows COPY-ed into the target, then earlier ones deleted
    "primary key": "lead_id TEXT PRIMARY KEY",  # a temporary staging table, ON CONFLICT
    "another unique index": "lead_id TEXT, UNIQUE (lead_id, score)",  # staging, DELETE + INSERT
}


def _create(engine: sa.Engine, table: str, key: str | None) -> None:
    if key is not None:
        columns = "probability FLOAT8, score BIGINT, reasons TEXT, as_of TIMESTAMPTZ"
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE TABLE "{table}" ({key}, {columns})'))


@pytest.mark.parametrize("target", TARGETS)
def test_a_run_killed_after_its_copy_leaves_the_previous_table(table, target):
    """The run is held after its COPY, inside the publishing transaction (another session holds
    a row that tonight's upsert replaces), and killed there."""
    uri = f"{POSTGRES_URL}#{table}"
    engine = sa.create_engine(POSTGRES_URL)
    _create(engine, table, TARGETS[target])
    write_in_chunks(uri, _awkward(["N00000000", "b", "c"], 0.1))
    before = _read(uri)
    with engine.connect() as holder:
        holder.execute(sa.text(f"SELECT 1 FROM \"{table}\" WHERE lead_id = 'N00000000' FOR UPDATE"))
        child = subprocess.Popen([sys.executable, "-c", CHILD, uri], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not _waiting(engine, table):  # staged, copied, now waiting to publish
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the run did not reach its publishing step"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
        holder.rollback()
    while _waiting(engine, table):  # the server ends the dead run's backend
        assert time.monotonic() < deadline + 60, "the killed run's transaction is still open"
        time.sleep(0.1)
    pd.testing.assert_frame_equal(_read(uri), before)
    assert not sa.inspect(engine).has_table(f"{table}__staging")
    assert write_in_chunks(uri, _awkward(["c", "d"], 0.5)) == 2  # and the next run completes
    assert _read(uri)["lead_id"].tolist() == ["N00000000", "b", "c", "d"]


def test_a_target_with_a_primary_key_is_upserted_in_place(table):
    """With a unique key on the target (found in the catalog) the upsert updates rows in place
    (``ON CONFLICT``) instead of deleting them: a table referencing tonight's leads by that key
    keeps its rows, where a DELETE would break its foreign key."""
    uri = f"{POSTGRES_URL}#{table}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        columns = "probability FLOAT8, score BIGINT, reasons TEXT, as_of TIMESTAMPTZ"
        conn.execute(sa.text(f'CREATE TABLE "{table}" (lead_id TEXT PRIMARY KEY, {columns})'))
        conn.execute(sa.text(f'CREATE TABLE "{table}_calls" (lead_id TEXT REFERENCES "{table}")'))
    try:
        assert write_in_chunks(uri, _awkward(["a", "b", "c"], 0.1)) == 0
        with engine.begin() as conn:
            conn.execute(sa.text(f"INSERT INTO \"{table}_calls\" VALUES ('b')"))
        later = _awkward(["b", "d"], 0.7)
        assert write_in_chunks(uri, later) == 2
        now = _read(uri)
        assert now["lead_id"].tolist() == ["a", "b", "c", "d"]
        assert now["probability"].tolist()[1] == later["probability"][0]
        assert now["score"].tolist() == [0, 0, 2, 1]
        assert sa.inspect(engine).get_pk_constraint(table)["constrained_columns"] == ["lead_id"]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}_calls"'))


def test_a_run_that_fails_while_copying_changes_nothing(table):
    """A run that stops between chunks (its COPY still open) discards: the COPY is failed, the
    transaction rolled back, the lock released."""
    uri = f"{POSTGRES_URL}#{table}"
    write_in_chunks(uri, _awkward(["a", "b"], 0.1))
    before = _read(uri)
    writer = open_writer(parse_table_uri(uri), _awkward([], 0.0), "lead_id")
    writer.append(_awkward(["b", "c"], 0.9))
    writer.append(_awkward(["d"], 0.9))
    writer.discard()
    pd.testing.assert_frame_equal(_read(uri), before)
    assert not sa.inspect(sa.create_engine(POSTGRES_URL)).has_table(f"{table}__staging")
    assert write_in_chunks(uri, _awkward(["c"], 0.5)) == 2  # the next run writes


def test_a_nul_in_text_is_written_as_the_replacement_character_and_the_row_kept(table):
    # a quarantined cell carries the value that made it bad, and PostgreSQL text holds no NUL
    night = _awkward(["L00", "L01"], 0.1)
    night["reasons"] = ["junk date \x00 here", "fine"]
    assert write_in_chunks(f"{POSTGRES_URL}#{table}", night) == 0
    written = _read(f"{POSTGRES_URL}#{table}")
    assert written["reasons"].tolist() == ["junk date \ufffd here", "fine"]


@pytest.mark.parametrize("target", TARGETS)
def test_each_upsert_path_leaves_exactly_the_night_and_the_earlier_rows(table, target):
    """The same night again, a smaller one, a larger one: the table holds each key once, with
    its latest night's values, and stays the user's table (a view on it and a grant on it)."""
    uri = f"{POSTGRES_URL}#{table}"
    engine = sa.create_engine(POSTGRES_URL)
    _create(engine, table, TARGETS[target])
    first = _awkward(["a", "b", "c"], 0.1)
    assert write_in_chunks(uri, first) == 0
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE VIEW "{table}_v" AS SELECT lead_id FROM "{table}"'))
        conn.execute(sa.text(f'GRANT SELECT ON "{table}" TO PUBLIC'))
    try:
        assert write_in_chunks(uri, first) == 0  # the same night again
        assert _read(uri)["probability"].tolist() == first["probability"].tolist()
        assert write_in_chunks(uri, _awkward(["b"], 0.5)) == 2
        assert _read(uri)["probability"].tolist() == [0.1, 0.5, 0.1 + 2 / 3.0]
        larger = _awkward(["a", "b", "c", "d", "e"], 0.7)
        assert write_in_chunks(uri, larger) == 0
        now = _read(uri)
        assert now["lead_id"].tolist() == ["a", "b", "c", "d", "e"]
        assert now["probability"].tolist() == larger["probability"].tolist()
        with engine.connect() as conn:
            assert conn.execute(sa.text(f'SELECT count(*) FROM "{table}_v"')).scalar() == 5
            granted = f"has_table_privilege('public', '\"{table}\"', 'SELECT')"
            assert conn.execute(sa.text(f"SELECT {granted}")).scalar()
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP VIEW IF EXISTS "{table}_v"'))


def test_an_updatable_view_as_the_target_is_upserted_through_the_view(table):
    """A view has no ``xmin`` and takes no COPY: the upsert deletes and inserts through it."""
    uri = f"{POSTGRES_URL}#{table}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE TABLE "{table}_base" (lead_id TEXT, probability FLOAT8)'))
        conn.execute(sa.text(f'CREATE VIEW "{table}" AS SELECT * FROM "{table}_base"'))
    try:
        assert write_in_chunks(uri, _awkward(["a", "b"], 0.1)[["lead_id", "probability"]]) == 0
        later = _awkward(["b", "c"], 0.7)[["lead_id", "probability"]]
        assert write_in_chunks(uri, later) == 1
        assert _read(uri)["probability"].tolist() == [0.1, *later["probability"]]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP VIEW IF EXISTS "{table}"'))
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}_base"'))


def test_a_server_before_13_upserts_a_plain_table_by_delete_and_insert(table, monkeypatch):
    """Without ``pg_current_xact_id()`` (PostgreSQL before 13) the copy path's DELETE cannot
    tell tonight's rows: a plain table takes the staged route."""
    monkeypatch.setattr(postgres_upsert, "XACT_ID_SINCE", (10**6,))  # the server taken for one
    uri = f"{POSTGRES_URL}#{table}"
    assert write_in_chunks(uri, _awkward(["a", "b"], 0.1)) == 0
    with sa.create_engine(POSTGRES_URL).connect() as conn:
        assert postgres_upsert.upsert_path(conn, f'"{table}"', "lead_id") == "delete"
    later = _awkward(["b", "c"], 0.7)
    assert write_in_chunks(uri, later) == 1
    assert _read(uri)["probability"].tolist() == [0.1, *later["probability"]]


@pytest.mark.parametrize("statement", ["MERGE", "ON CONFLICT DO UPDATE"])
def test_a_keyed_target_refuses_a_key_staged_twice_and_keeps_its_rows(
    table, statement, monkeypatch
):
    """Rows updated in place by ``MERGE`` (PostgreSQL 15 and later) or, on an older server,
    ``INSERT ... ON CONFLICT``: each keeps the rows, and refuses a night holding a key twice
    (which of its rows would win is not for the writer to guess)."""
    if statement != "MERGE":  # the server taken for one before MERGE
        monkeypatch.setattr(database_writers, "MERGE_SINCE", (10**6,))
    uri = f"{POSTGRES_URL}#{table}"
    engine = sa.create_engine(POSTGRES_URL)
    _create(engine, table, TARGETS["primary key"])
    assert write_in_chunks(uri, _awkward(["a", "b", "c"], 0.1)) == 0
    later = _awkward(["b", "d"], 0.7)
    assert write_in_chunks(uri, later) == 2
    before = _read(uri)
    assert before["lead_id"].tolist() == ["a", "b", "c", "d"]
    assert before["probability"].tolist()[1] == later["probability"][0]
    with pytest.raises(errors.OutputError, match=f"{statement} command cannot affect row"):
        write_in_chunks(uri, _awkward(["a", "e", "a"], 0.9))
    pd.testing.assert_frame_equal(_read(uri), before)
