"""Staged upserts and replacements on every kind of table: all of a night or none of it, an empty
night too; one writer per output; staging where the next run finds it; personal files private."""

from __future__ import annotations

import signal
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from leadscore import errors  # (errors.OutputError is new in issue 19)
from leadscore.data.tables import duckdb_connection, parse_table_uri, read_all, sql_engine
from leadscore.data.writers import open_writer
from support import OUTPUT_KINDS, TABLE_KINDS, postgres_url, table_uri, write_in_chunks

DATABASES = ["duckdb", "sqlite", "postgresql"]
STREAMED = ["duckdb", "postgresql"]  # staged straight into the database, not in Parquet


def _night(ids: list[str], value: float) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": ids, "probability": [value] * len(ids)})


def _ids(uri: str) -> list[str]:
    return sorted(read_all(parse_table_uri(uri))["lead_id"].astype(str))


@pytest.fixture(autouse=True)
def staging_dir(tmp_path, monkeypatch) -> Path:
    """A staging folder of this test's own (for outputs on a database server), also for the
    processes it starts."""
    folder = tmp_path / "staging"
    monkeypatch.setenv("LEADSCORE_STAGING_DIR", str(folder))
    return folder


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_upsert_replaces_reruns_and_keeps_other_leads(kind, tmp_path):
    uri = table_uri(kind, tmp_path, "scores")
    assert write_in_chunks(uri, _night(["a", "b", "c"], 0.1)) == 0
    assert write_in_chunks(uri, _night(["a", "b", "c"], 0.1)) == 0  # the same night again
    assert write_in_chunks(uri, _night(["c", "d"], 0.7)) == 2
    table = read_all(parse_table_uri(uri)).sort_values("lead_id")
    assert table["lead_id"].tolist() == ["a", "b", "c", "d"]
    assert table["probability"].astype(float).tolist() == [0.1, 0.1, 0.7, 0.7]
    assert (
        write_in_chunks(uri, _night(["z"], 0.5), key=None) == 0
    )  # replace, as the quarantine does
    assert read_all(parse_table_uri(uri))["lead_id"].tolist() == ["z"]


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_a_discarded_run_changes_nothing_and_leaves_no_staging(kind, tmp_path):
    uri = table_uri(kind, tmp_path, "scores")
    write_in_chunks(uri, _night(["a"], 0.1))
    before = sorted(p.name for p in tmp_path.iterdir())
    writer = open_writer(parse_table_uri(uri), _night([], 0.0), "lead_id")
    writer.append(_night(["a", "b"], 0.9))
    writer.discard()  # what a failed run does
    assert read_all(parse_table_uri(uri))["lead_id"].tolist() == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("kind", OUTPUT_KINDS)
def test_a_night_without_rows_publishes_an_empty_table(kind, output_uri):
    """Finding 1 of issue 19: a clean night (no row quarantined) or a night where every lead was
    rejected has one empty side; it is published as an empty table with its columns."""
    uri = output_uri(kind, "quarantine")
    ref = parse_table_uri(uri)
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in ("lead_id", "reason", "raw")})
    writer = open_writer(ref, empty, key=None)  # no table yet, and no row tonight
    writer.append(empty)  # a chunk without a rejected row
    assert writer.commit() == 0
    assert _columns(ref) == ["lead_id", "reason", "raw"] and read_all(ref).empty
    write_in_chunks(uri, pd.DataFrame({"lead_id": ["a"], "reason": ["r"], "raw": ["{}"]}), key=None)
    assert _ids(uri) == ["a"]
    assert open_writer(ref, empty, key=None).commit() == 0  # last night's rows are replaced
    assert read_all(ref).empty and _columns(ref) == ["lead_id", "reason", "raw"]
    scores = output_uri(kind, "scores")
    write_in_chunks(scores, _night(["a", "b"], 0.2))
    assert open_writer(parse_table_uri(scores), _night([], 0.0), "lead_id").commit() == 2
    assert _ids(scores) == ["a", "b"]  # an upsert of nothing keeps every earlier row


@pytest.mark.parametrize("kind", DATABASES)
def test_a_publish_that_fails_leaves_the_database_as_it_was(kind, output_uri, tmp_path):
    """A constraint the owner put on the table refuses tonight's rows (half-way through the
    publish, or on DuckDB, which upserts chunk by chunk, at the chunk): the transaction is
    rolled back whole, the staging table's DDL included."""
    uri = output_uri(kind, "scores")
    ref = parse_table_uri(uri)
    target = f'"{ref.name}"'
    check = "probability DOUBLE PRECISION CHECK (probability <= 1)"
    ddl = f"CREATE TABLE {target} (lead_id TEXT, {check})"
    _execute(ref, [ddl, f"INSERT INTO {target} VALUES ('a', 0.1)"])
    tables = _tables(ref)
    writer = open_writer(ref, _night([], 0.0), "lead_id")
    with pytest.raises(errors.OutputError, match="cannot be written"):
        writer.append(_night(["a", "b"], 2.0))  # probability 2: the CHECK refuses it
        writer.commit()
    writer.discard()  # what a failed run does (a no-op after a commit)
    assert read_all(ref)["probability"].tolist() == [0.1]
    assert _tables(ref) == tables  # no staging table left behind
    assert not [p for p in tmp_path.rglob("*staging*") if p.is_file()]
    open_writer(ref, _night([], 0.0), "lead_id").discard()  # and the lock was released


@pytest.mark.parametrize("tonight", [["b"], []], ids=["rows", "no row"])
def test_a_replace_that_fails_on_sqlite_keeps_the_previous_table(tonight, tmp_path):
    """SQLite renames a table only if every view still reads: with a view over the quarantine,
    the rename fails after the previous table was dropped, and the drop must be undone (Python's
    sqlite3 driver had committed it at once when no row had begun a transaction)."""
    uri = table_uri("sqlite", tmp_path, "quarantine")
    ref = parse_table_uri(uri)
    write_in_chunks(uri, _night(["a"], 0.1), key=None)
    _execute(ref, ['CREATE VIEW "recent" AS SELECT * FROM "quarantine"'])
    writer = open_writer(ref, _night([], 0.0).astype({"lead_id": "str"}), key=None)
    writer.append(_night(tonight, 0.2))
    with pytest.raises(errors.OutputError, match="cannot be written"):
        writer.commit()
    assert _ids(uri) == ["a"]
    assert _tables(ref) == ["quarantine"]


@pytest.mark.parametrize("kind", OUTPUT_KINDS)
def test_one_writer_per_output_and_a_killed_one_holds_nothing(kind, output_uri, tmp_path):
    from leadscore.data.staging import place_of  # new in issue 19

    uri = output_uri(kind, "scores")
    ref = parse_table_uri(uri)
    first = open_writer(ref, _night([], 0.0), "lead_id")
    with pytest.raises(errors.OutputError, match="another leadscore run is writing"):
        open_writer(ref, _night([], 0.0), "lead_id")
    first.append(_night(["a"], 0.1))
    first.commit()
    staging = place_of(ref).staging
    if kind == "duckdb":  # DuckDB lets one process at a time open its file
        duckdb_connection(ref.location).close()
        duckdb_connection.cache_clear()
    # beside the output, or (a database server) in the staging folder: where the next run looks
    assert staging.parent in (tmp_path, tmp_path / "staging")
    _kill_while_staging(uri)
    if kind in STREAMED:  # staged in a transaction the server (or DuckDB) never committed
        assert not staging.exists() and _tables(ref) == [ref.name]
        assert _ids(uri) == ["a"]
    else:
        assert staging.stat().st_size > 0  # what the killed run staged is still there...
    writer = open_writer(ref, _night([], 0.0), "lead_id")  # ...but it holds no lock
    writer.append(_night(["b"], 0.2))
    writer.commit()
    assert _ids(uri) == ["a", "b"]
    assert not staging.exists()  # the next run removed it


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_personal_files_are_private_and_stay_so(kind, tmp_path):
    uri = table_uri(kind, tmp_path, "quarantine")
    path = Path(uri)
    quarantine = pd.DataFrame({"lead_id": ["a"], "raw": ['{"email": "ana@example.com"}']})
    writer = open_writer(parse_table_uri(uri), quarantine[:0], key=None, personal=True)
    writer.append(quarantine)
    staged = next(tmp_path.glob(".*__staging*"))
    assert stat.S_IMODE(staged.stat().st_mode) == 0o600  # tonight's rows, while they are staged
    writer.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # someone widened it: the next night makes it private again
    again = open_writer(parse_table_uri(uri), quarantine[:0], key=None, personal=True)
    again.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    scores = Path(table_uri(kind, tmp_path, "scores"))
    write_in_chunks(str(scores), _night(["a"], 0.1))
    scores.chmod(0o640)  # a mode its owner chose stays
    write_in_chunks(str(scores), _night(["b"], 0.1))
    assert stat.S_IMODE(scores.stat().st_mode) == 0o640


@pytest.mark.parametrize(
    "case", ["folder", "below a file", "read-only sqlite", "unreachable server"]
)
def test_an_output_that_cannot_be_written_fails_before_any_row(case, tmp_path):
    (tmp_path / "out.parquet").mkdir()
    (tmp_path / "file").write_text("")
    (tmp_path / "crm.db").touch()
    uri = {
        "folder": str(tmp_path / "out.parquet"),
        "below a file": str(tmp_path / "file" / "scores.parquet"),
        "read-only sqlite": f"sqlite:///file:{tmp_path / 'crm.db'}?mode=ro&uri=true#scores",
        "unreachable server": "postgresql+psycopg://nobody:secret@127.0.0.1:1/crm#scores",
    }[case]
    with pytest.raises(errors.OutputError, match=r"cannot be written|a folder") as error:
        open_writer(parse_table_uri(uri), _night([], 0.0), "lead_id")
    assert "secret" not in str(error.value)


def _kill_while_staging(uri: str) -> None:
    """Start a writer in another process, let it stage a chunk, and SIGKILL it (a chunk large
    enough for DuckDB to write row groups to its file before the commit)."""
    script = (
        "import sys, time, pandas as pd\n"
        "from leadscore.data.tables import parse_table_uri\n"
        "from leadscore.data.writers import open_writer\n"
        "ids = [f'x{i}' for i in range(300_000)]\n"
        "frame = pd.DataFrame({'lead_id': ids, 'probability': [0.5] * len(ids)})\n"
        "writer = open_writer(parse_table_uri(sys.argv[1]), frame[:0], 'lead_id')\n"
        "writer.append(frame)\n"
        "print('staged', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, uri], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "staged"
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL


def _columns(ref) -> list[str]:
    if ref.kind == "parquet":
        return pq.read_schema(ref.location).names
    if ref.kind == "csv":
        return Path(ref.location).read_text().splitlines()[0].split(",")
    if ref.kind == "duckdb":
        cursor = duckdb_connection(ref.location).cursor()
        return [d[0] for d in cursor.execute(f'SELECT * FROM "{ref.name}" LIMIT 0').description]
    return [c["name"] for c in sa.inspect(sql_engine(ref.location)).get_columns(ref.name)]


def _execute(ref, statements: list[str]) -> None:
    if ref.kind == "duckdb":
        cursor = duckdb_connection(ref.location).cursor()
        for sql in statements:
            cursor.execute(sql)
        return
    with sa.create_engine(ref.location).begin() as conn:
        for sql in statements:
            conn.execute(sa.text(sql))


def _tables(ref) -> list[str]:
    if ref.kind == "duckdb":
        rows = duckdb_connection(ref.location).cursor().execute("SHOW TABLES").fetchall()
        return sorted(r[0] for r in rows)
    names = sa.inspect(sa.create_engine(ref.location)).get_table_names()
    return sorted(n for n in names if n.startswith(ref.name))


def test_a_postgresql_server_gone_mid_run_is_a_storage_error_not_the_unlock(output_uri):
    """Issue 34, item 10: with the server's sessions gone, unlocking failed too, and that
    second error (exit code 1) hid the first, the output that cannot be written (3)."""
    writer = open_writer(parse_table_uri(output_uri("postgresql", "scores")), _night([], 0.0),
                         "lead_id")  # fmt: skip
    writer.append(_night(["a"], 0.1))
    sessions = [writer.lock.conn, writer.conn]  # the lock's and the transaction's
    pids = [conn.connection.driver_connection.info.backend_pid for conn in sessions]
    with sa.create_engine(postgres_url()).connect() as admin:
        for pid in pids:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(errors.OutputError, match="cannot be written"):
        writer.append(_night(["b"], 0.2))
        writer.commit()


def test_two_runs_publish_into_one_sqlite_file_one_after_the_other(tmp_path):
    """Issue 34, item 11: while another run published into another table of the same SQLite
    file, a publish failed at once with "database is locked"; now it waits its turn."""
    database = tmp_path / "crm.db"
    uri = f"sqlite:///{database}#scores"
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE other_scores (x INTEGER)")
    writer = open_writer(parse_table_uri(uri), _night([], 0.0), "lead_id")
    writer.append(_night(["a"], 0.1))
    other.execute("BEGIN IMMEDIATE")  # the other run's publish, under way
    other.execute("INSERT INTO other_scores VALUES (1)")
    finish = threading.Timer(1.0, other.execute, ["COMMIT"])
    finish.start()
    try:
        writer.commit()
    finally:
        finish.join()
        other.close()
    assert _ids(uri) == ["a"]
