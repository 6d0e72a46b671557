"""Fuzzing the nightly job: Hypothesis builds lead tables with faults of every kind the validator
knows at scoring time planted at random, and `leadscore score` runs on them into each kind of
output with a random chunk size. Whatever the table, the run ends with exit code 0 or 5 and one
line at most on stderr, never a traceback; read = scored + quarantined; and the quarantine holds
exactly the planted rows, each with its reason (issue 19).

Labels are not scoring inputs: a junk label is noise that must be scored, not quarantined. The
reasons that need a column the demo's schema has not (counts, an ordering column) are fuzzed on
the validator itself in tests/data/test_validation_fuzz.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.data.tables import parse_table_uri, read_all
from leadscore.scoring.batch import drift_path
from support import OUTPUT_KINDS, postgres_url, table_uri

pytestmark = pytest.mark.slow
AS_OF = "2026-10-01T00:00:00Z"
LEAD_FAULTS = {  # the fault planted in a row -> the reason it is quarantined with
    "no id": "missing_lead_id",
    "no date": "missing_created_at",
    "junk date": "unparseable_created_at",
    "future": "created_at_in_future",
    "copy": "duplicate_lead_id",
    "bytes": "not_text:company",  # not in a CSV, whose cells are text
}
EVENT_FAULTS = {
    "no ts": "event:missing_ts",
    "junk ts": "event:unparseable_ts",
    "no type": "event:missing_event_type",
}
# text that is no date in any reading (no digits, no month or day name to start one from)
JUNK = st.one_of(
    st.text(alphabet="xyzqk!#%&*_", min_size=1, max_size=12),
    st.sampled_from(["soon", "31/02/2026", "2026-13-45", "yesterday", "24:61", "\x00"]),
)
CREATED: list[str] = []  # PostgreSQL tables to drop


@pytest.fixture(scope="module")
def base(project) -> tuple[pd.DataFrame, pd.DataFrame]:
    """300 demo leads (dates as ISO text, so a junk date fits the column) and their events."""
    root = project[0]
    leads = pd.read_parquet(root / "data/raw/leads.parquet").drop_duplicates("lead_id")
    leads = leads.head(300).reset_index(drop=True)
    leads["created_at"] = leads["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object)
    events = pd.read_parquet(root / "data/raw/events.parquet")
    events = events[events["lead_id"].isin(leads["lead_id"])].reset_index(drop=True)
    events["ts"] = events["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object)
    return leads, events.astype({"event_type": object})


@pytest.fixture(scope="module", autouse=True)
def drop_postgres_tables():
    yield
    if CREATED:
        with sa.create_engine(postgres_url()).begin() as conn:
            for table in CREATED:
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))


@st.composite
def nights(draw, leads: pd.DataFrame, events: pd.DataFrame, kind: str) -> dict:
    """A night's table: some of ``leads``, faults planted, and what must come of them."""
    n = draw(st.integers(20, 60))
    start = draw(st.integers(0, len(leads) - n))
    night = leads.iloc[start : start + n].reset_index(drop=True).astype(object)
    kinds = [k for k in LEAD_FAULTS if not (kind == "csv" and k == "bytes")]
    faults = draw(st.lists(st.sampled_from(kinds), max_size=8))
    rows = draw(st.permutations(range(n)))
    planted, clean = dict(zip(rows, faults, strict=False)), list(rows[len(faults) :])
    expected = []
    copies = []
    for row, fault in planted.items():
        if fault == "copy":  # a copy of a clean row, read after it
            copies.append(night.iloc[clean[0] if clean else 0].copy())
            expected.append(LEAD_FAULTS["copy"])
            continue
        expected.append(LEAD_FAULTS[fault])
        value = {"no id": ("lead_id", None), "no date": ("created_at", None),
                 "junk date": ("created_at", draw(JUNK)),
                 "future": ("created_at", "2030-01-01T00:00:00Z"),
                 "bytes": ("company", b"\xff\xfe\xfd")}[fault]  # fmt: skip
        night.at[row, value[0]] = value[1]
    for row in draw(st.lists(st.sampled_from(range(n)), max_size=5)):  # label noise: scored
        night.at[row, "converted"] = draw(st.one_of(JUNK, st.floats(allow_nan=True)))
    night = pd.concat([night, pd.DataFrame(copies)], ignore_index=True)
    if kind != "csv":  # a binary column: UTF-8 bytes are text, others are not
        night["company"] = [v.encode() if isinstance(v, str) else v for v in night["company"]]
    night["converted"] = night["converted"].map(lambda v: None if v is None else str(v))
    ids = [night.at[r, "lead_id"] for r in clean if r not in planted]
    mine = events[events["lead_id"].isin(ids)].reset_index(drop=True).astype(object)
    event_faults = draw(st.lists(st.sampled_from(list(EVENT_FAULTS)), max_size=min(4, len(mine))))
    for row, fault in zip(draw(st.permutations(range(len(mine)))), event_faults, strict=False):
        column, value = {"no ts": ("ts", None), "junk ts": ("ts", draw(JUNK)),
                         "no type": ("event_type", None)}[fault]  # fmt: skip
        mine.at[row, column] = value
    return {
        "leads": night,
        "events": mine,
        "expected": sorted(expected + [EVENT_FAULTS[f] for f in event_faults]),
        "chunk": draw(st.one_of(st.integers(1, 8), st.integers(9, 70))),
        "max_reject": draw(st.sampled_from([0.05, 0.2, 1.0])),
    }


def _put(kind: str, folder: Path, night: dict) -> dict[str, str]:
    """The night's leads and events as tables (Parquet, or CSV for a CSV night) and an output
    URI of ``kind``."""
    suffix = "csv" if kind == "csv" else "parquet"
    uris = {name: str(folder / f"{name}.{suffix}") for name in ("leads", "events")}
    for name in ("leads", "events"):
        frame = night[name]
        frame.to_csv(uris[name], index=False) if suffix == "csv" else frame.to_parquet(uris[name])
    if kind == "postgresql":
        table = f"fuzz_{uuid.uuid4().hex[:10]}"
        CREATED.extend([table, f"{table}_quarantine"])
        uris["scores"] = f"{postgres_url()}#{table}"
    else:
        uris["scores"] = table_uri(kind, folder, "scores")
    return uris


@pytest.mark.parametrize("kind", OUTPUT_KINDS)
def test_any_faulty_night_ends_in_scores_and_a_quarantine_of_exactly_the_faults(
    kind, project, base, tmp_path_factory, monkeypatch
):
    leads, events = base
    root = project[0]
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # a server table's drift file goes here

    tmp_root = tmp_path_factory.getbasetemp().resolve()

    @settings(max_examples=10, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(night=nights(leads, events, kind))
    def check(night: dict) -> None:
        folder = tmp_path_factory.mktemp("night")
        uris = _put(kind, folder, night)
        argv = ["score", "--model", str(root / "models/lead_scorer"), "--leads", uris["leads"],
                "--events", uris["events"], "--out", uris["scores"], "--as-of", AS_OF,
                "--chunk-size", str(night["chunk"]), "--max-reject-rate",
                str(night["max_reject"])]  # fmt: skip
        done = CliRunner().invoke(app, argv)
        assert "Traceback" not in done.output + done.stderr
        assert not isinstance(done.exception, Exception) or isinstance(done.exception, SystemExit)
        read = len(night["leads"])
        rejected = sum(1 for r in night["expected"] if not r.startswith("event:"))
        assert done.exit_code == (5 if rejected / read > night["max_reject"] else 0), done.stderr
        quarantine = read_all(parse_table_uri(uris["scores"]).sibling("_quarantine"))
        got = sorted(quarantine["reason"].astype(str)) if len(quarantine) else []
        assert got == night["expected"]
        if done.exit_code == 5:
            assert len([line for line in done.stderr.splitlines() if "error:" in line]) == 1
            return
        summary = json.loads(done.stdout)
        assert summary["read"] == read == summary["scored"] + summary["quarantined"]
        assert summary["quarantined"] == rejected
        assert len(read_all(parse_table_uri(uris["scores"]))) == summary["scored"]
        assert drift_path(parse_table_uri(uris["scores"])).resolve().is_relative_to(tmp_root)

    check()
