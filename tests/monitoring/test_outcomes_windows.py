"""Labelling past scores with their outcomes and measuring a window, on tiny hand-built tables
with the answers written out; the failure modes as carefully as the happy path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from leadscore.config import MonitorConfig, SchemaConfig
from leadscore.errors import ConfigError, SchemaError
from leadscore.monitoring.outcomes import label_scores, outcomes_of
from leadscore.monitoring.windows import (
    auc_interval,
    realized_windows,
    retrain_signal,
    window_start,
)

T = pd.Timestamp("2026-10-07 02:00", tz="UTC")  # a Wednesday night
DAY = pd.Timedelta(days=1)


def _scores(ids: list[str], moments: list[pd.Timestamp]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ids,
            "as_of": moments,
            "probability": 0.2,
            "band": "nurture",
            "model_version": "3",
        }
    )


def test_a_score_is_judged_by_what_happened_within_its_horizon():
    ids = ["within", "later", "never", "before", "open", "unknown", "absent"]
    moments = [T] * 6 + [T]
    moments[4] = T + 25 * DAY  # its 30 days have not passed at NOW
    now = T + 31 * DAY
    outcomes = pd.DataFrame(
        {
            "converted": [1.0, 1.0, 0.0, 1.0, 1.0, np.nan],
            "converted_at": pd.to_datetime(
                [T + 3 * DAY, T + 31 * DAY, None, T - DAY, T + 26 * DAY, None], utc=True
            ),
        },
        index=pd.Index(ids[:6]),
    )
    got = label_scores(
        _scores(ids, moments), outcomes, horizon_days=30, now=now, absent_is_negative=False
    )
    assert got.scores[["lead_id", "y"]].values.tolist() == [
        ["within", 1],
        ["later", 0],
        ["never", 0],
    ]
    assert got.counts == {
        "scores": 7,
        "horizon_open": 1,
        "no_outcome": 2,
        "converted_before_scoring": 1,
        "judged": 3,
    }
    closed_deals = label_scores(
        _scores(ids, moments), outcomes, horizon_days=30, now=now, absent_is_negative=True
    )
    assert closed_deals.scores["lead_id"].tolist() == ["within", "later", "never", "absent"]


def test_outcomes_come_from_the_lead_table_with_its_declared_label_values():
    schema = SchemaConfig.model_validate(
        {
            "leads": {
                "lead_id": "Id",
                "created_at": "Created",
                "converted": "Won",
                "converted_at": "Closed",
            },
            "label": {"positive": ["YES"], "negative": ["NO"]},
            "dates": {"leads": {"dayfirst": True}},
        }
    )
    raw = pd.DataFrame(
        {
            "Id": ["a", "b", "c", "d", "a"],
            "Won": ["YES", "NO", "maybe", "YES", "NO"],
            "Closed": ["03/02/2026", None, None, None, None],
        }
    )
    got = outcomes_of(raw, schema)
    assert got.loc["a", "converted"] == 1.0  # a second row of a lead does not undo its win
    assert got.loc["a", "converted_at"] == pd.Timestamp("2026-02-03", tz="UTC")  # day first
    assert got.loc["b", "converted"] == 0.0
    assert np.isnan(got.loc["c", "converted"])  # undeclared: not guessed
    assert np.isnan(got.loc["d", "converted"])  # won, but when is unknown: not judged
    with pytest.raises(SchemaError, match="Closed"):
        outcomes_of(raw.drop(columns="Closed"), schema)


def test_outcomes_come_from_a_declared_outcomes_table():
    schema = SchemaConfig.model_validate(
        {
            "leads": {"lead_id": "lead_id", "created_at": "created_at"},
            "outcomes": {"key": "lead", "status": "stage", "converted_at": "closed"},
            "label": {"positive": ["Won"], "negative": ["Lost"]},
        }
    )
    deals = pd.DataFrame(
        {
            "lead": ["x", "y"],
            "stage": ["Won", "Lost"],
            "closed": ["2026-10-09T10:00Z", "2026-10-10T10:00Z"],
        }
    )
    got = outcomes_of(deals, schema)
    assert got["converted"].tolist() == [1.0, 0.0]
    assert got.loc["x", "converted_at"] == pd.Timestamp("2026-10-09 10:00", tz="UTC")
    no_date = schema.model_copy(
        update={"outcomes": schema.outcomes.model_copy(update={"converted_at": None})}
    )
    with pytest.raises(ConfigError, match="converted_at"):
        outcomes_of(deals, no_date)


def test_weeks_start_on_monday_in_utc_and_runs_are_nights():
    moments = pd.Series(
        pd.to_datetime(["2026-10-05 00:00", "2026-10-11 23:59", "2026-10-12 00:00"], utc=True)
    )
    assert window_start(moments, "week").dt.strftime("%F").tolist() == [
        "2026-10-05",
        "2026-10-05",
        "2026-10-12",
    ]
    assert window_start(moments, "run").dt.strftime("%F").tolist() == [
        "2026-10-05",
        "2026-10-11",
        "2026-10-12",
    ]


def test_the_auc_interval_is_hanley_and_mcneil_s():
    auc, n1, n0 = 0.8, 50, 450
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt((auc * (1 - auc) + 49 * (q1 - auc**2) + 449 * (q2 - auc**2)) / (n1 * n0))
    low, high = auc_interval(auc, n1, n0)
    assert low == pytest.approx(auc - norm.ppf(0.975) * se, abs=1e-6)
    assert high == pytest.approx(auc + norm.ppf(0.975) * se, abs=1e-6)
    assert 0.72 < low < 0.8 < high < 0.88
    assert all(math.isnan(v) for v in auc_interval(0.5, 0, 10))


def _judged(rng, nights: pd.DatetimeIndex, per_night: int, signal: float) -> pd.DataFrame:
    """Scores whose outcomes follow them with the given strength (0: a coin toss)."""
    n = len(nights) * per_night
    p = rng.uniform(0.02, 0.6, n)
    y = rng.random(n) < np.clip(0.3 + signal * (p - 0.3), 0, 1)
    band = np.where(p > 0.4, "sales_ready", np.where(p > 0.2, "marketing_qualified", "nurture"))
    return pd.DataFrame(
        {
            "lead_id": [f"l{i}" for i in range(n)],
            "as_of": np.repeat(nights, per_night),
            "probability": p,
            "band": band,
            "model_version": "1",
            "y": y.astype("int8"),
        }
    )


def test_only_complete_windows_are_measured_and_the_latest_judged_one_decides():
    rng = np.random.default_rng(0)
    good = _judged(rng, pd.date_range("2026-10-05 02:00", periods=14, freq="D", tz="UTC"), 30, 1)
    bad = _judged(rng, pd.date_range("2026-10-19 02:00", periods=7, freq="D", tz="UTC"), 30, 0)
    small = _judged(rng, pd.date_range("2026-10-26 02:00", periods=1, freq="D", tz="UTC"), 30, 1)
    frame = pd.concat([good, bad, small], ignore_index=True)
    cfg = MonitorConfig(min_roc_auc=0.6, max_ece=0.2, min_leads=100)
    now = pd.Timestamp("2026-11-01", tz="UTC") + pd.Timedelta(days=30)  # week of 10-26 not over
    windows, waiting = realized_windows(frame, cfg=cfg, horizon_days=30, now=now, ece_bins=10)
    assert list(windows) == ["2026-10-05", "2026-10-12", "2026-10-19"] and waiting == 30
    first = windows["2026-10-05"]
    assert (first["leads"], first["nights"], first["judged"], first["flagged"]) == (
        210,
        7,
        True,
        False,
    )
    assert sum(b["leads"] for b in first["bands"].values()) == 210
    assert sum(b["recall"] for b in first["bands"].values()) == pytest.approx(1.0)
    assert windows["2026-10-19"]["flagged"]
    assert retrain_signal(windows) == ("2026-10-19", windows["2026-10-19"]["reasons"])
    assert "min_roc_auc" in windows["2026-10-19"]["reasons"][0]
    later = now + pd.Timedelta(days=7)
    windows, _ = realized_windows(frame, cfg=cfg, horizon_days=30, now=later, ece_bins=10)
    assert not windows["2026-10-26"]["judged"]  # 30 leads < min_leads: shown, not judged
    assert retrain_signal(windows)[0] == "2026-10-19"
    assert retrain_signal({}) == (None, [])


def test_scoring_moments_written_as_text_are_read_as_the_same_moments():
    """A CSV scores table or a database that keeps timestamps as text gives ISO-8601 back."""
    outcomes = pd.DataFrame({"converted": [1.0], "converted_at": [T + DAY]}, index=pd.Index(["a"]))
    moments = [T + pd.Timedelta(hours=5)]
    as_text = _scores(["a"], moments).astype({"as_of": "str"})
    for scores in (_scores(["a"], moments), as_text):
        got = label_scores(
            scores, outcomes, horizon_days=30, now=T + 40 * DAY, absent_is_negative=False
        )
        assert got.scores["as_of"].tolist() == moments and got.scores["y"].tolist() == [1]


def test_run_windows_are_nights():
    rng = np.random.default_rng(1)
    nights = pd.date_range("2026-10-05 02:00", periods=3, freq="D", tz="UTC")
    frame = _judged(rng, nights, 120, 1)
    cfg = MonitorConfig(window="run", min_leads=100)
    now = nights[-1].floor("D") + pd.Timedelta(days=30)  # the last night is not complete yet
    windows, waiting = realized_windows(frame, cfg=cfg, horizon_days=30, now=now, ece_bins=10)
    assert list(windows) == ["2026-10-05", "2026-10-06"] and waiting == 120
    assert all(w["nights"] == 1 and w["leads"] == 120 for w in windows.values())
