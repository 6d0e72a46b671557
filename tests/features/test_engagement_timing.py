"""Engagement and timing features: point in time, windows, decay and the lead's own clock."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.features.engagement import engagement_features
from leadscore.features.timing import timing_features

T = pd.Timestamp("2026-03-10 12:00", tz="UTC")


def _events(rows: list[tuple[str, float, str]]) -> pd.DataFrame:
    """(lead, days before T, type) -> an event log."""
    return pd.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "ts": [T - pd.Timedelta(days=r[1]) for r in rows],
            "event_type": [r[2] for r in rows],
        }
    )


SNAPSHOTS = pd.DataFrame({"lead_id": ["a", "b", "c"], "as_of": [T, T, T]})
EVENTS = _events([
    ("a", 0.0, "pricing_view"), ("a", 0.5, "pricing_view"), ("a", 3, "pricing_view"),
    ("a", 10, "email_open"), ("a", 40, "email_open"), ("b", 7, "demo_request"),
    ("b", 2, "tweeted"), ("a", -1, "demo_request"),  # a's demo request is after T
])  # fmt: skip


def _features(events: pd.DataFrame = EVENTS) -> pd.DataFrame:
    return pd.DataFrame(engagement_features(SNAPSHOTS, events, (1.0, 7.0, 30.0), 7.0))


def test_counts_per_type_and_window_include_t_and_nothing_after():
    out = _features()
    assert out["pricing_view_1d"].tolist() == [2.0, 0.0, 0.0]  # ts == T counts
    assert out["pricing_view_7d"].tolist() == [3.0, 0.0, 0.0]
    assert out["email_open_30d"].tolist() == [1.0, 0.0, 0.0]
    assert out["demo_request_30d"].tolist() == [0.0, 1.0, 0.0]
    assert out["other_7d"].tolist() == [0.0, 1.0, 0.0]  # unknown types count as "other"
    assert out["events_30d"].tolist() == [4.0, 2.0, 0.0]


def test_recency_decay_activity_and_trend():
    out = _features()
    assert out["pricing_view_days_since"].iloc[0] == 0.0
    assert out["email_open_days_since"].iloc[0] == 10.0
    assert np.isnan(out["demo_request_days_since"].iloc[0])
    assert out["demo_request_decayed"].iloc[1] == pytest.approx(0.5)  # one half-life old
    assert out["active_days_30d"].tolist() == [3.0, 2.0, 0.0]
    assert out["days_since_last_event"].iloc[1] == 2.0
    assert out["events_trend_7d"].iloc[0] == pytest.approx(3 - 1 * 7 / 30)


def test_events_after_the_scoring_moment_change_nothing():
    later = _events([("a", -0.01, "demo_request"), ("b", -5, "pricing_view"),
                     ("c", -30, "chat_message")])  # fmt: skip
    pd.testing.assert_frame_equal(_features(), _features(pd.concat([EVENTS, later])))


def test_an_empty_log_gives_zero_counts():
    out = _features(EVENTS.iloc[:0])
    assert (out.filter(like="_7d") == 0).all().all()
    assert out["days_since_last_event"].isna().all()


def test_weekday_and_hour_are_read_on_the_leads_clock():
    created = pd.Series(pd.to_datetime(["2026-03-01 23:30", "2026-03-01 23:30"], utc=True))
    zone = pd.Series(["Australia/Sydney", None])
    out = pd.DataFrame(timing_features(created, zone, pd.Series([T, T])))
    # 23:30 UTC on Sunday is 10:30 on Monday in Sydney: an office-hours lead there.
    assert out["weekday"].tolist() == [0.0, 6.0]
    assert out["hour"].tolist() == [10.0, 23.0]
    assert out["is_business_hours"].tolist() == [1.0, 0.0]
    assert out["is_weekend"].tolist() == [0.0, 1.0]
    assert out["lead_age_days"].iloc[0] == pytest.approx(8.520833, abs=1e-6)


def test_dates_without_a_time_of_day_give_no_hour_and_keep_their_own_weekday():
    created = pd.Series(pd.to_datetime(["2026-03-02", "2026-03-07"], utc=True))  # Mon, Sat
    zone = pd.Series(["America/New_York", "Asia/Tokyo"])
    out = timing_features(created, zone, created + pd.Timedelta(days=1), time_of_day=False)
    assert set(out) == {"weekday", "is_weekend", "lead_age_days"}
    assert out["weekday"].tolist() == [0.0, 5.0] and out["is_weekend"].tolist() == [0.0, 1.0]
