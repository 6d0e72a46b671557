"""Nightly batch scoring against every kind of table it reads and writes, with the real artifact.

Each backend is the real thing: Parquet and CSV files, a DuckDB file, SQLite, and a PostgreSQL
server over TCP (started by `.ci/run`; in CI a missing server fails these tests).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.data.tables import parse_table_uri, read_all
from leadscore.data.writers import open_writer
from leadscore.errors import EmptyInputError, InputError, OutputError, RejectRateError, SchemaError
from leadscore.monitoring.runs import runs_ref
from leadscore.scoring.artifact import load_scorer
from leadscore.scoring.batch import score_tables
from leadscore.scoring.options import ScoringOptions
from support import run
from support import score_command as _cli_score

pytestmark = pytest.mark.slow
AS_OF = pd.Timestamp("2026-10-01", tz="UTC")
POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
BACKENDS = ["parquet", "csv", "duckdb", "sqlite", "postgresql"]


@pytest.fixture(scope="module")
def scorer(project):
    return load_scorer(project[0] / "models/lead_scorer")


@pytest.fixture(scope="module")
def tonight(project) -> tuple[pd.DataFrame, pd.DataFrame]:
    """400 leads of the demo table with malformed rows of every kind the validator knows at
    scoring time, and three malformed labels, which are not scoring inputs: those leads score.

    (The demo schema has no pre-aggregated count columns, so the two count reasons are covered
    by tests/test_validation.py instead.)
    """
    root = project[0]
    leads = pd.read_parquet(root / "data/raw/leads.parquet").head(400).reset_index(drop=True)
    leads = leads.astype({"created_at": "object", "converted_at": "object", "converted": "object"})
    bad = {
        0: ("lead_id", None),  # missing_lead_id
        1: ("created_at", None),  # missing_created_at
        2: ("created_at", "not a date"),  # unparseable_created_at
        3: ("created_at", "2027-01-01T00:00:00Z"),  # created_at_in_future
        4: ("converted", 7),  # a label is not read at scoring time: scored
        5: ("converted_at", "soon"),  # the same
        6: ("converted_at", "2020-01-01T00:00:00Z"),  # the same
    }
    for row, (column, value) in bad.items():
        leads.at[row, column] = value
    copies = leads.iloc[[10, 250]].copy()  # duplicate_lead_id, in the same or another chunk
    leads = pd.concat([leads, copies], ignore_index=True)
    leads = leads.astype({"created_at": "str", "converted_at": "str", "converted": "str"})
    leads = leads.replace({"None": None, "NaT": None, "<NA>": None})
    events = pd.read_parquet(root / "data/raw/events.parquet")
    events = events[events["lead_id"].isin(leads["lead_id"])].reset_index(drop=True)
    events = events.astype({"ts": "str"})
    of_a_valid_lead = events.index[events["lead_id"] == leads.at[20, "lead_id"]]
    events.loc[of_a_valid_lead[0], "ts"] = "garbage"  # event:unparseable_ts
    events.loc[of_a_valid_lead[1], "event_type"] = None  # event:missing_event_type
    return leads, events


@pytest.fixture
def place(tmp_path, monkeypatch):
    """Put frames as tables of one backend and return their URIs, plus a "scores" URI there.

    PostgreSQL tables get unique names and are dropped afterwards. The test runs in
    ``tmp_path``, where a database output's drift file (``<table>_drift.json``) is written.
    """
    monkeypatch.chdir(tmp_path)
    created: list[str] = []

    def uri(backend: str, name: str) -> str:
        if backend in ("parquet", "csv"):
            return str(tmp_path / f"{name}.{backend}")
        if backend == "duckdb":
            return f"duckdb:///{tmp_path / 'crm.duckdb'}#{name}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / 'crm.db'}#{name}"
        table = f"{name}_{uuid.uuid4().hex[:8]}"
        created.extend([table, f"{table}_quarantine", f"{table}_runs", f"{table}__staging"])
        return f"{_postgres()}#{table}"

    def put(backend: str, frames: dict[str, pd.DataFrame]) -> dict[str, str]:
        uris = {name: uri(backend, name) for name in [*frames, "scores"]}
        for name, frame in frames.items():
            ref = parse_table_uri(uris[name])
            if backend == "parquet":
                frame.to_parquet(ref.location)
            elif backend == "csv":
                frame.to_csv(ref.location, index=False)
            elif backend == "duckdb":
                with duckdb.connect(ref.location) as con:
                    con.register("frame", frame)
                    con.execute(f'CREATE OR REPLACE TABLE "{ref.table}" AS SELECT * FROM frame')
            else:
                engine = sa.create_engine(ref.location)
                binary = {c: sa.LargeBinary for c in frame if _holds_bytes(frame[c])}  # bytea
                frame.to_sql(ref.table, engine, index=False, if_exists="replace", dtype=binary)
        return uris

    yield put
    if POSTGRES_URL and created:
        with sa.create_engine(POSTGRES_URL).begin() as conn:
            for table in created:
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))


def _hidden_files(folder: Path) -> list[Path]:
    """What a run left hidden in ``folder``, but the outputs' lock files, which stay (empty)."""
    return [p for p in folder.iterdir() if p.name.startswith(".") and p.suffix != ".lock"]


def _holds_bytes(values: pd.Series) -> bool:
    return values.dtype == object and values.map(lambda v: isinstance(v, bytes)).any()


def _postgres() -> str:
    """The test server's URL; without one this fails in CI and skips on a laptop."""
    if POSTGRES_URL:
        return POSTGRES_URL
    message = "LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _score(scorer, uris: dict[str, str], chunk_size: int = 100, as_of=AS_OF, **kwargs) -> dict:
    options = ScoringOptions(
        as_of=as_of,
        max_reject_rate=kwargs.pop("max_reject_rate", 0.2),
        chunk_size=chunk_size,
        **kwargs,
    )
    return score_tables(
        scorer,
        parse_table_uri(uris["leads"]),
        parse_table_uri(uris["events"]) if "events" in uris else None,
        parse_table_uri(uris["scores"]),
        options=options,
    )


def _table(uri: str, suffix: str = "") -> pd.DataFrame:
    frame = read_all(parse_table_uri(uri).sibling(suffix))
    if frame.empty:
        return frame
    return frame.sort_values(["lead_id", *frame.columns[1:2]]).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(scorer, tonight, tmp_path_factory) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Tonight scored from Parquet in one chunk: what every other way must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    leads, events = tonight
    leads.to_parquet(folder / "leads.parquet")
    events.to_parquet(folder / "events.parquet")
    uris = {n: str(folder / f"{n}.parquet") for n in ("leads", "events", "scores")}
    summary = _score(scorer, uris, chunk_size=10**6)
    quarantine = _table(uris["scores"], "_quarantine")
    return summary, _table(uris["scores"]), quarantine


def test_every_malformed_row_is_quarantined_and_the_counts_reconcile(reference, tonight):
    summary, scores, quarantine = reference
    assert summary["read"] == len(tonight[0]) == summary["scored"] + summary["quarantined"]
    # events of quarantined leads are not read: skipped, not lost
    assert summary["events_read"] + summary["events_skipped"] == len(tonight[1])
    assert summary["events_skipped"] > 0
    assert sorted(quarantine["reason"]) == sorted(
        [
            "missing_lead_id", "missing_created_at", "unparseable_created_at",
            "created_at_in_future", "duplicate_lead_id", "duplicate_lead_id",
            "event:unparseable_ts", "event:missing_event_type",
        ]
    )  # fmt: skip
    assert len(scores) == summary["scored"] == scores["lead_id"].nunique()
    assert sum(summary["bands"].values()) == summary["scored"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_scores_like_parquet_and_reruns_replace(backend, scorer, tonight, place,
                                                             reference):  # fmt: skip
    summary, expected, expected_quarantine = reference
    leads, events = tonight
    uris = place(backend, {"leads": leads, "events": events})
    first = _score(scorer, uris, chunk_size=64)  # several chunks, a duplicate across two
    again = _score(scorer, uris, chunk_size=64)
    for key in ("read", "scored", "quarantined", "events_read", "bands"):
        assert first[key] == summary[key], key
    assert (first["kept_from_earlier_runs"], again["kept_from_earlier_runs"]) == (0, 0)
    got = _table(uris["scores"])
    assert len(got) == len(expected) == got["lead_id"].nunique()  # two runs, no duplicates
    np.testing.assert_allclose(
        got["probability"].astype(float), expected["probability"], rtol=0, atol=1e-12
    )
    for column in ("lead_id", "band", "reasons", "fit_grade"):
        assert got[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    quarantine = _table(uris["scores"], "_quarantine")
    assert sorted(quarantine["reason"]) == sorted(expected_quarantine["reason"])


def test_chunked_scoring_gives_the_unchunked_table(scorer, tonight, place, reference):
    _, expected, _ = reference
    uris = place("parquet", {"leads": tonight[0], "events": tonight[1]})
    _score(scorer, uris, chunk_size=37)
    got = _table(uris["scores"])
    pd.testing.assert_frame_equal(got.drop(columns="scored_at"),
                                  expected.drop(columns="scored_at"))  # fmt: skip


def test_a_later_night_upserts_and_keeps_leads_not_in_tonights_table(scorer, tonight, place):
    leads, events = tonight
    later = AS_OF + pd.Timedelta(days=1)
    uris = place("sqlite", {"leads": leads.iloc[:200], "events": events})
    _score(scorer, uris, chunk_size=50)
    first = set(_table(uris["scores"])["lead_id"])
    place("sqlite", {"leads": leads.iloc[150:]})  # tonight's table replaces yesterday's
    summary = _score(scorer, uris, chunk_size=50, as_of=later)
    table = _table(uris["scores"])
    assert table["lead_id"].is_unique
    as_of = pd.to_datetime(table["as_of"], utc=True)
    tonight_ids = set(table.loc[as_of == later, "lead_id"])
    kept_ids = set(table.loc[as_of == AS_OF, "lead_id"])
    assert len(tonight_ids) == summary["scored"]
    assert kept_ids == first - tonight_ids and len(kept_ids) == summary["kept_from_earlier_runs"]
    assert kept_ids and first & tonight_ids  # both cases happened


def test_errors_have_their_exit_codes_and_keep_the_previous_scores(scorer, tonight, place):
    leads, events = tonight
    uris = place("parquet", {"leads": leads, "events": events})
    _score(scorer, uris)
    before = Path(uris["scores"]).read_bytes()
    with pytest.raises(RejectRateError):
        _score(scorer, uris, chunk_size=100, max_reject_rate=0.01)
    assert Path(uris["scores"]).read_bytes() == before
    assert not _hidden_files(Path(uris["scores"]).parent)
    with pytest.raises(InputError, match="no such file"):
        _score(
            scorer, {**uris, "events": uris["events"].replace("events", "missing")}, chunk_size=100
        )
    with pytest.raises(InputError, match="no table 'nope'"):
        _score(scorer, {**uris, "leads": f"sqlite:///{Path(uris['scores']).parent}/x.db#nope"},
               chunk_size=100)  # fmt: skip
    no_ids = place("csv", {"leads": leads.drop(columns="lead_id")})
    with pytest.raises(SchemaError, match="lead_id"):
        _score(scorer, {**no_ids, "scores": uris["scores"]}, chunk_size=100)
    empty = place("duckdb", {"leads": leads.iloc[:0]})
    with pytest.raises(EmptyInputError):
        _score(scorer, {**empty, "scores": uris["scores"]}, chunk_size=100)
    assert Path(uris["scores"]).read_bytes() == before


@pytest.mark.parametrize("backend", ["parquet", "sqlite"])
def test_a_killed_run_leaves_the_previous_scores_and_a_rerun_completes(backend, project,
                                                                       tmp_path):  # fmt: skip
    root, env = project
    temp = tmp_path / "temp"  # the runs' own temporary folder: others' runs share the system's
    temp.mkdir()
    env = env | {"TMPDIR": str(temp)}
    folder = tmp_path / "out"
    folder.mkdir()
    out = str(folder / "scores.parquet") if backend == "parquet" else (
        f"sqlite:///{folder / 'crm.db'}#scores")  # fmt: skip
    run(_cli_score(root, out, "2026-10-01", 1000), folder, env)
    before = _table(out)
    night = subprocess.Popen(
        _cli_score(root, out, "2026-10-02", 20), cwd=folder, env=env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    for line in night.stderr:  # the first progress line: scoring is under way
        if " leads of " in line:
            night.send_signal(signal.SIGKILL)
            break
    assert night.wait(timeout=60) == -signal.SIGKILL, "the run ended before it could be killed"
    pd.testing.assert_frame_equal(_table(out), before)
    rerun = json.loads(run(_cli_score(root, out, "2026-10-02", 500), folder, env).stdout)
    after = _table(out)
    assert len(after) == rerun["scored"] + rerun["kept_from_earlier_runs"]
    assert (pd.to_datetime(after["as_of"], utc=True) == pd.Timestamp("2026-10-02", tz="UTC")).all()
    # what the killed run staged was beside the output, and the rerun removed it (issue 19)
    assert not _hidden_files(folder)
    assert not list(temp.rglob("*staging*"))
    if backend == "parquet":
        assert sorted(p.name for p in folder.iterdir() if p.suffix != ".lock") == [
            "scores.parquet",
            "scores_drift.json",
            "scores_quarantine.parquet",
            "scores_runs.parquet",
        ]
    else:
        tables = sa.inspect(sa.create_engine(out.split("#")[0])).get_table_names()
        assert sorted(tables) == ["scores", "scores_quarantine", "scores_runs"]


def test_command_line_errors_have_their_exit_codes(project, tmp_path):
    root, env = project
    unknown_format = _cli_score(root, "scores.txt", "2026-10-01", 100)
    bad_moment = _cli_score(root, "s.parquet", "yesterday-ish", 100)
    missing_table = [*_cli_score(root, "s.parquet", "2026-10-01", 100), "--leads",
                     f"sqlite:///{tmp_path / 'x.db'}#leads"]  # fmt: skip
    for code, cmd in [(2, unknown_format), (2, bad_moment), (3, missing_table)]:
        done = run(cmd, tmp_path, env, check=False)
        assert done.returncode == code, (cmd, done.stderr)
        assert "error:" in done.stderr and "Traceback" not in done.stderr


# Issue 19: what a careless or hostile table found. Each test failed on the commit before the
# fix (see the numbered findings).


@pytest.fixture(scope="module")
def clean(tonight) -> pd.DataFrame:
    """100 leads of tonight's table without a fault (their events neither)."""
    return tonight[0].iloc[21:121].reset_index(drop=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_clean_night_and_a_night_of_rejects_both_publish(backend, scorer, tonight, clean, place):
    """Finding 1: a night without a quarantined lead, and a night whose every lead is
    quarantined, publish their empty side instead of failing."""
    leads, events = tonight
    rejected = clean.assign(created_at="2030-01-01T00:00:00Z")  # every lead from the future
    uris = place(backend, {"leads": leads, "events": events, "clean": clean, "rejected": rejected})
    _score(scorer, uris)  # a night with rejects: the quarantine has rows
    night = _score(scorer, {**uris, "leads": uris["clean"]})
    assert (night["read"], night["scored"], night["quarantined"]) == (100, 100, 0)
    assert _table(uris["scores"], "_quarantine").empty  # last night's rejects are gone
    scores = _table(uris["scores"])
    everything = _score(scorer, {**uris, "leads": uris["rejected"]}, max_reject_rate=1.0)
    assert (everything["scored"], everything["quarantined"]) == (0, 100)
    assert everything["kept_from_earlier_runs"] == len(scores)
    pd.testing.assert_frame_equal(_table(uris["scores"]), scores)  # nothing changed
    assert set(_table(uris["scores"], "_quarantine")["reason"]) == {"created_at_in_future"}
    first = {**uris, "scores": uris["scores"].replace("scores", "fresh")}
    _score(scorer, {**first, "leads": uris["rejected"]}, max_reject_rate=1.0)
    assert _table(first["scores"]).empty  # a first night without a score: an empty table
    _score(scorer, {**first, "leads": uris["clean"]})  # that the next night upserts into
    fresh = _table(first["scores"])
    earlier = scores.set_index("lead_id").loc[fresh["lead_id"]]  # the same night's scores
    np.testing.assert_allclose(
        fresh["probability"].astype(float), earlier["probability"].astype(float), atol=0
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_malformed_cell_never_crashes_a_night(backend, scorer, clean, place):
    """Finding 2: a label of 2.5, 300 or inf (not a scoring input: scored) and a text cell that
    is not text (bytes that are not UTF-8: quarantined with its reason) end no night."""
    leads = clean.head(30).astype({"converted": "float64"})
    leads.loc[0:2, "converted"] = [2.5, 300.0, np.inf]
    if backend == "csv":  # a CSV cell is text: a NUL byte is one more character of it
        leads.loc[3, "company"] = "Acme\x00Corp"
        odd = leads
    else:  # a binary column, as a BLOB or bytea holds it: UTF-8 bytes are text
        odd = leads.assign(company=[None if pd.isna(v) else v.encode() for v in leads["company"]])
        odd.loc[3, "company"] = b"\xff\xfe not UTF-8"
    uris = place(backend, {"leads": odd})
    summary = _score(scorer, uris)
    quarantine = _table(uris["scores"], "_quarantine")
    if backend == "csv":
        assert summary["scored"] == 30 and quarantine.empty
        return
    assert (summary["scored"], summary["quarantined"]) == (29, 1)
    assert quarantine["reason"].tolist() == ["not_text:company"]
    reference = place("parquet", {"leads": leads.drop(index=3)})
    _score(scorer, reference)
    np.testing.assert_allclose(  # the decoded bytes score as the text they hold
        _table(uris["scores"])["probability"].astype(float),
        _table(reference["scores"])["probability"],
        atol=1e-12,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unlabelled_export_scores_as_the_labelled_one(backend, scorer, clean, place):
    """Finding 3: labels are not scoring inputs; a blank or absent label column scores."""
    blank = clean.assign(converted=None, converted_at=None)
    absent = clean.drop(columns=["converted", "converted_at"])
    uris = place(backend, {"leads": clean, "blank": blank, "absent": absent})
    labelled = _score(scorer, uris)
    expected = _table(uris["scores"])
    for name in ("blank", "absent"):
        other = {
            **uris,
            "leads": uris[name],
            "scores": uris["scores"].replace("scores", f"scores_{name}"),
        }
        summary = _score(scorer, other)
        assert summary["scored"] == labelled["scored"] == 100, name
        got = _table(other["scores"])
        np.testing.assert_allclose(
            got["probability"].astype(float), expected["probability"].astype(float)
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_dates_are_read_as_declared_or_unambiguously_never_guessed(backend, scorer, clean, place):
    """Finding 4: integer epochs are read in the unit their magnitude implies (not as
    nanoseconds), and dates that read both day-first and month-first stop the run."""
    moments = pd.to_datetime(clean["created_at"], utc=True)
    since_1970 = moments - pd.Timestamp("1970-01-01", tz="UTC")
    seconds = clean.assign(created_at=since_1970 // pd.Timedelta(seconds=1))
    millis = clean.assign(created_at=since_1970 // pd.Timedelta(milliseconds=1))
    iso = clean.assign(created_at=moments.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    both_ways = clean.assign(created_at=moments.dt.strftime("%m/%d/%Y %H:%M").str.replace(
        r"^(\d\d)/(\d\d)", r"\2/\1", regex=True))  # fmt: skip
    both_ways.loc[:9, "created_at"] = "01/09/2026 10:00"  # September or January?
    frames = {"leads": iso, "seconds": seconds, "millis": millis, "both_ways": both_ways}
    uris = place(backend, frames)
    _score(scorer, uris)
    expected = _table(uris["scores"])
    for name in ("seconds", "millis"):
        other = {
            **uris,
            "leads": uris[name],
            "scores": uris["scores"].replace("scores", f"scores_{name}"),
        }
        assert _score(scorer, other)["scored"] == 100, name
        got = _table(other["scores"])
        np.testing.assert_allclose(
            got["probability"].astype(float), expected["probability"].astype(float)
        )
    with pytest.raises(SchemaError, match="read both day-first and month-first"):
        _score(scorer, {**uris, "leads": uris["both_ways"]})


def test_a_csv_row_that_does_not_tokenize_stops_the_night_with_its_line(scorer, clean, place):
    """Finding 4: a stray quote swallowed the next leads into one cell, silently."""
    uris = place("csv", {"leads": clean})
    path = Path(uris["leads"])
    lines = path.read_text().splitlines()
    lines[6] = lines[6].replace(",", ',"', 3)  # a value that opens a quote and never closes it
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="starts at line 7 does not tokenize"):
        _score(scorer, uris)
    assert not Path(uris["scores"]).exists()


@pytest.mark.parametrize("backend", ["sqlite", "duckdb", "postgresql"])
def test_a_table_name_does_not_decide_where_the_drift_file_goes(backend, scorer, clean,
                                                                 place, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    """Finding 7: a table named ``../travel`` wrote its drift figures a folder up."""
    uris = place(backend, {"leads": clean})
    name = f"travel_{uuid.uuid4().hex[:8]}"
    out = uris["scores"].rsplit("#", 1)[0] + f"#../{name}"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # a database server's drift file goes to the working folder
    try:
        _score(scorer, {**uris, "scores": out})
    finally:
        if backend == "postgresql":
            with sa.create_engine(POSTGRES_URL).begin() as conn:
                for table in (f"../{name}", f"../{name}_quarantine"):
                    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
    written = list(tmp_path.parent.rglob(f"*{name}_drift.json"))
    assert [p.name for p in written] == [f"..%2F{name}_drift.json"]
    assert tmp_path in written[0].parents


def test_the_quarantine_file_is_private_and_stays_so(scorer, tonight, place):
    """Finding 7: the quarantine holds raw rows (e-mail, phone, names): 0600, night after night."""
    leads, events = tonight
    for backend in ("parquet", "csv"):
        uris = place(backend, {"leads": leads, "events": events})
        _score(scorer, uris)
        quarantine = Path(uris["scores"]).with_name(f"scores_quarantine.{backend}")
        assert oct(quarantine.stat().st_mode & 0o777) == "0o600"
        quarantine.chmod(0o644)
        _score(scorer, uris)
        assert oct(quarantine.stat().st_mode & 0o777) == "0o600"


# Issue 34: an adversarial review. Each test failed on the commit before its fix.


def test_dates_outside_what_nanoseconds_hold_are_quarantined_not_wrapped(project, clean, place):
    """Item 5: a 9999-12-31 "never" sentinel became 1816 and was scored; beside a nanosecond
    ISO date it stopped the night (exit 1). Now each such lead is quarantined with its reason."""
    root, env = project
    leads = clean.head(20).copy()
    leads.loc[0, "created_at"] = "9999-12-31"
    leads.loc[1, "created_at"] = "0001-01-01T00:00:00Z"
    leads.loc[2, "created_at"] = "2026-01-02T03:04:05.123456789Z"
    uris = place("csv", {"leads": leads})
    cmd = ["leadscore", "score", "--model", str(root / "models/lead_scorer"),
           "--leads", uris["leads"], "--out", uris["scores"], "--as-of", "2026-10-01",
           "--max-reject-rate", "0.2"]  # fmt: skip
    run(cmd, Path.cwd(), env)
    quarantine = _table(uris["scores"], "_quarantine")
    assert sorted(quarantine["reason"]) == ["created_at_out_of_range"] * 2
    scores = _table(uris["scores"])
    assert len(scores) + len(quarantine) == 20 and leads.at[2, "lead_id"] in set(scores["lead_id"])


@pytest.fixture
def crm_schema(tmp_path) -> Iterator[tuple[str, str]]:
    """A database URL and a fresh schema of its own on the PostgreSQL server (dropped after)."""
    url, schema = _postgres(), f"crm_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield url, schema
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def _tables_in(url: str, schema: str | None) -> list[str]:
    return sorted(sa.inspect(sa.create_engine(url)).get_table_names(schema=schema))


def test_a_schema_qualified_postgresql_table_is_read_and_written_in_its_schema(
    project, clean, crm_schema, tmp_path, monkeypatch
):
    """Item 8: ``#crm.leads`` was "no table" (exit 3); ``--out ...#crm.scores`` wrote a table
    named "crm.scores" in public. Every table of the night lands in the given schema."""
    root, env = project
    url, schema = crm_schema
    monkeypatch.chdir(tmp_path)
    public_before = _tables_in(url, None)
    clean.to_sql("leads", sa.create_engine(url), schema=schema, index=False)
    cmd = ["leadscore", "score", "--model", str(root / "models/lead_scorer"),
           "--leads", f"{url}#{schema}.leads", "--out", f"{url}#{schema}.scores",
           "--as-of", "2026-10-01"]  # fmt: skip
    run(cmd, tmp_path, env)
    assert _tables_in(url, schema) == ["leads", "scores", "scores_quarantine", "scores_runs"]
    assert _tables_in(url, None) == public_before
    with sa.create_engine(url).begin() as conn:  # the in-place upsert's path, then a rerun
        conn.execute(sa.text(f'ALTER TABLE "{schema}".scores ADD PRIMARY KEY (lead_id)'))
    run(cmd, tmp_path, env)
    scores = pd.read_sql_table("scores", sa.create_engine(url), schema=schema)
    assert sorted(scores["lead_id"]) == sorted(clean["lead_id"])
    assert _tables_in(url, None) == public_before


def test_a_schema_qualified_duckdb_table_is_read_and_written_in_its_schema(project, clean,
                                                                           tmp_path):  # fmt: skip
    """Item 8, the same rule for DuckDB's schemas."""
    root, env = project
    database = tmp_path / "night.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE SCHEMA crm")
        con.register("frame", clean)
        con.execute("CREATE TABLE crm.leads AS SELECT * FROM frame")
    cmd = ["leadscore", "score", "--model", str(root / "models/lead_scorer"),
           "--leads", f"duckdb:///{database}#crm.leads", "--out", f"duckdb:///{database}#crm.scores",
           "--as-of", "2026-10-01"]  # fmt: skip
    run(cmd, tmp_path, env)
    run(cmd, tmp_path, env)  # a rerun upserts
    with duckdb.connect(str(database)) as con:
        query = "SELECT table_schema, table_name FROM information_schema.tables"
        found = con.execute(query).fetchall()
        scored = con.execute("SELECT count(*) FROM crm.scores").fetchall()[0][0]
    tables = ("leads", "scores", "scores_quarantine", "scores_runs")
    assert sorted(found) == [("crm", name) for name in tables]
    assert scored == len(clean)


def test_a_held_runs_table_stops_the_night_before_it_publishes(scorer, clean, place):
    """Item 11: another run holding the runs table let the scores be published, then failed
    (exit 3) without a runs row. Now nothing is read or written."""
    uris = place("parquet", {"leads": clean})
    holder = open_writer(runs_ref(parse_table_uri(uris["scores"])), pd.DataFrame(), key="night")
    try:
        with pytest.raises(OutputError, match="another leadscore run is writing"):
            _score(scorer, uris)
    finally:
        holder.discard()
    assert not Path(uris["scores"]).exists()
    assert not Path(uris["scores"].replace("scores", "scores_quarantine")).exists()


def test_an_unwritable_drift_file_stops_a_database_night_before_any_lead(project, clean, place):
    """Item 11: with a database output and a working folder the run may not write, the scores
    and the runs row were committed, then the drift file failed (exit 1, no summary)."""
    root, env = project
    uris = place("postgresql", {"leads": clean})
    folder = Path(tempfile.mkdtemp(prefix="leadscore-read-only-"))  # others may enter /tmp
    try:
        folder.chmod(0o755)
        model = folder / "model"
        shutil.copytree(root / "models/lead_scorer", model)
        cmd = ["leadscore", "score", "--model", str(model), "--leads", uris["leads"],
               "--out", uris["scores"], "--as-of", "2026-10-01", "--workers", "1"]  # fmt: skip
        if os.geteuid() == 0:  # as root, permissions do not stop anyone
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
        done = run(cmd, folder, env | {"HOME": str(folder)}, check=False)
        assert done.returncode == 3, done.stderr[-2000:]
        assert "_drift.json: cannot be written" in done.stderr
        engine = sa.create_engine(_postgres())
        scores = parse_table_uri(uris["scores"])
        assert not sa.inspect(engine).has_table(scores.name)
        assert not sa.inspect(engine).has_table(f"{scores.name}_runs")
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("backend", ["parquet", "csv", "sqlite"])
def test_an_existing_output_with_columns_of_its_own(backend, scorer, clean, place):
    """Item 9: a user's ``owner`` column in the scores file was dropped from every row (CSV) or
    failed the night once scored (Parquet, exit 1). A file stops the night before it starts
    (exit 4, naming the column); a database table keeps its own columns, as it always did."""
    uris = place(backend, {"leads": clean})
    _score(scorer, uris)
    scores = parse_table_uri(uris["scores"])
    if backend == "sqlite":
        with sa.create_engine(scores.location).begin() as conn:
            conn.execute(sa.text("ALTER TABLE scores ADD COLUMN owner TEXT"))
            conn.execute(sa.text("UPDATE scores SET owner = 'ann'"))
        _score(scorer, {**uris, "leads": place("parquet", {"leads": clean.head(10)})["leads"]})
        owners = read_all(scores)["owner"]  # tonight's leads are rows of tonight's columns
        assert owners.isna().sum() == 10 and (owners == "ann").sum() == len(clean) - 10
        return
    frame = read_all(scores).assign(owner="ann")
    frame.to_parquet(scores.location) if backend == "parquet" else frame.to_csv(
        scores.location, index=False
    )
    outputs = [Path(scores.location), Path(scores.sibling("_quarantine").location)]
    before = [path.stat().st_mtime_ns for path in outputs]
    with pytest.raises(SchemaError, match=r"extra: owner; missing: none\)") as error:
        _score(scorer, uris)
    assert error.value.exit_code == 4
    assert [path.stat().st_mtime_ns for path in outputs] == before  # neither was rewritten
