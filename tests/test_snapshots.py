import pandas as pd
from pandas.testing import assert_frame_equal, assert_series_equal

from leadscore.snapshots import assign_split, data_end, make_snapshots

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["early", "late", "never", "no_time"],
            "created_at": [T0, T0, T0, T0],
            "converted": [1, 1, 0, 1],
            "converted_at": [
                T0 + pd.Timedelta(hours=12),
                T0 + pd.Timedelta(days=20),
                pd.NaT,
                pd.NaT,
            ],
        }
    )


def test_labels_and_already_converted_leads_left_out():
    snaps = make_snapshots(leads(), (0.0, 1.0), horizon_days=10, end=T0 + pd.Timedelta(days=60))
    expected = pd.DataFrame(
        {
            "lead_id": ["early", "late", "never", "no_time", "late", "never", "no_time"],
            "as_of": [T0] * 4 + [T0 + pd.Timedelta(days=1)] * 3,
            "age_days": [0.0] * 4 + [1.0] * 3,
            "label": pd.array([1, 0, 0, 1, 0, 0, 1], dtype="int8"),
        }
    )
    assert_frame_equal(snaps, expected)


def test_open_horizons_are_left_out():
    snaps = make_snapshots(leads(), (0.0, 5.0), horizon_days=10, end=T0 + pd.Timedelta(days=12))
    assert snaps["age_days"].unique().tolist() == [0.0]


def test_data_end_is_the_last_known_moment():
    events = pd.DataFrame({"ts": [T0 + pd.Timedelta(days=30)]})
    assert data_end(leads(), events) == T0 + pd.Timedelta(days=30)
    assert data_end(leads(), None) == T0 + pd.Timedelta(days=20)


def test_split_is_out_of_time_and_per_lead():
    created = pd.Series(pd.date_range(T0, periods=10, freq="D"), index=[f"l{i}" for i in range(10)])
    snaps = pd.DataFrame({"lead_id": [f"l{i}" for i in range(10)] * 2})
    split = assign_split(snaps, created, valid_fraction=0.2, test_fraction=0.3)
    expected = ["train"] * 5 + ["valid"] * 2 + ["test"] * 3
    assert_series_equal(split, pd.Series(expected * 2, dtype="str"), check_names=False)
