"""The runs table: one row per night beside the scores, in every kind of table the scores go to,
replaced by a rerun of the night, and left as it was by a run that is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from leadscore.data.tables import TableRef, parse_table_uri, read_all
from leadscore.monitoring.runs import night_of, open_runs, record_run, runs_ref, score_deciles
from leadscore.monitoring.summary import drift_history
from leadscore.scoring.options import ScoringOptions
from support import TABLE_KINDS, run, table_uri
from support import score_command as _cli_score

POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")


def test_the_runs_table_sits_beside_the_scores_in_the_same_kind():
    assert str(runs_ref(parse_table_uri("out/scores.parquet"))) == "out/scores_runs.parquet"
    assert str(runs_ref(parse_table_uri("scores.csv"))) == "scores_runs.csv"
    assert str(runs_ref(TableRef("parquet", "out/scores"))) == "out/scores_runs.parquet"  # Dask
    assert runs_ref(parse_table_uri("sqlite:///crm.db#scores")).table == "scores_runs"


def test_a_night_is_the_utc_date_of_the_as_of_moment():
    assert night_of(pd.Timestamp("2026-10-01T23:30-05:00")) == "2026-10-02"
    assert night_of(pd.Timestamp("2026-10-01T23:30")) == "2026-10-01"  # naive is UTC


def test_score_deciles_are_the_inverted_cdf_percentiles_of_the_scores():
    rng = np.random.default_rng(3)
    for n in (1, 7, 10, 1000):
        scores = rng.integers(0, 101, n)
        expected = np.quantile(scores, np.arange(1, 10) / 10, method="inverted_cdf")
        assert score_deciles(Counter(scores.tolist())) == expected.tolist()
    assert all(np.isnan(score_deciles(Counter())))


def _summary(scored: int, psi: float) -> dict:
    return {
        "out": "scores",
        "read": scored + 1,
        "scored": scored,
        "quarantined": 1,
        "events_read": 5,
        "events_quarantined": 0,
        "bands": {"sales_ready": 1, "nurture": scored - 1},
        "drift_psi": {"probability": psi, "source": 0.01},
    }


def _uri(kind: str, folder: Path) -> str:
    if kind != "postgresql":
        return table_uri(kind, folder, "scores")
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL)")
        pytest.skip("LEADSCORE_TEST_POSTGRES_URL is not set")
    return f"{POSTGRES_URL}#scores_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("kind", [*TABLE_KINDS, "postgresql"])
def test_a_rerun_of_a_night_replaces_its_row_and_other_nights_stay(kind, tmp_path):
    out = parse_table_uri(_uri(kind, tmp_path))
    nights = ["2026-10-01T02:00Z", "2026-10-02T02:00Z", "2026-10-02T05:30Z"]  # a rerun last
    try:
        for k, moment in enumerate(nights):
            options = ScoringOptions(
                as_of=pd.Timestamp(moment), model="models:/lead-scorer@champion"
            )
            summary = _summary(10 + k, 0.1 * k)
            record_run(summary, Counter({20: 4, 40: 6 + k}), runs=open_runs(out),
                       model_version="3", options=options)  # fmt: skip
        assert summary["runs"] == str(runs_ref(out))
        table = read_all(runs_ref(out)).sort_values("night").reset_index(drop=True)
    finally:
        if kind == "postgresql":
            with sa.create_engine(POSTGRES_URL).begin() as conn:
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{runs_ref(out).name}"'))
    assert table["night"].tolist() == ["2026-10-01", "2026-10-02"]
    assert table["scored"].astype(int).tolist() == [10, 12]  # the rerun's figures
    assert pd.to_datetime(table["as_of"], utc=True).tolist() == [
        pd.Timestamp(nights[0]),
        pd.Timestamp(nights[2]),
    ]
    assert table["alias"].tolist() == ["champion"] * 2
    assert table["model_version"].astype(str).tolist() == ["3", "3"]
    assert table["share_sales_ready"].astype(float).tolist() == [0.1, 1 / 12]
    assert table["score_p50"].astype(float).tolist() == [40.0, 40.0]
    assert json.loads(table["drift_psi"].iloc[1]) == {"probability": 0.2, "source": 0.01}
    history = drift_history(table)  # as monitor reads it back, whatever the kind of table
    assert list(history) == ["2026-10-01", "2026-10-02"]
    assert {
        k: history["2026-10-02"][k]
        for k in ("scored", "alias", "score_p50", "psi_probability", "psi_max_feature")
    } == {
        "scored": 12,
        "alias": "champion",
        "score_p50": 40.0,
        "psi_probability": 0.2,
        "psi_max_feature": 0.01,
    }


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["parquet", "sqlite"])
def test_a_killed_run_leaves_the_previous_runs_table_and_a_rerun_adds_its_night(
    kind, project, tmp_path
):
    root, env = project
    out = table_uri(kind, tmp_path, "scores")
    runs = runs_ref(parse_table_uri(out))
    first = json.loads(run(_cli_score(root, out, "2026-10-01", 1000), tmp_path, env).stdout)
    assert first["runs"] == str(runs)
    before = read_all(runs)
    night = subprocess.Popen(
        _cli_score(root, out, "2026-10-02", 20),
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for line in night.stderr:  # the first progress line: scoring is under way
        if " leads of " in line:
            night.send_signal(signal.SIGKILL)
            break
    assert night.wait(timeout=60) == -signal.SIGKILL, "the run ended before it could be killed"
    pd.testing.assert_frame_equal(read_all(runs), before)
    rerun = json.loads(run(_cli_score(root, out, "2026-10-02T03:00Z", 500), tmp_path, env).stdout)
    after = read_all(runs).sort_values("night").reset_index(drop=True)
    assert after["night"].tolist() == ["2026-10-01", "2026-10-02"]
    assert pd.to_datetime(after["as_of"], utc=True).iloc[1] == pd.Timestamp("2026-10-02T03:00Z")
    assert int(after["scored"].iloc[1]) == rerun["scored"]
    assert after["model"].tolist() == [str(root / "models/lead_scorer")] * 2
    pd.testing.assert_frame_equal(after.iloc[:1], before)  # the earlier night untouched
