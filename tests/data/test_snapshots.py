import pandas as pd
from pandas.testing import assert_frame_equal, assert_series_equal

from leadscore.data.snapshots import (
    arrival_order,
    assign_split,
    data_end,
    make_snapshots,
    split_method,
)

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
    split = assign_split(snaps, created, valid=0.2, test=0.3)
    expected = ["train"] * 5 + ["valid"] * 2 + ["test"] * 3
    assert_series_equal(split, pd.Series(expected * 2, dtype="str"), check_names=False)


def test_without_created_at_each_lead_has_one_snapshot_and_the_order_column_splits():
    table = pd.DataFrame(
        {"lead_id": ["c", "a", "b", "d", "e"], "arrival_order": [3, 1, 2, 5, 4],
         "converted": pd.array([1, 0, 1, 0, 1], dtype="Int8")}
    )  # fmt: skip
    snaps = make_snapshots(table, (0.0, 7.0), 30.0, data_end(table, None))
    assert snaps["lead_id"].tolist() == ["c", "a", "b", "d", "e"]
    assert snaps["label"].tolist() == [1, 0, 1, 0, 1]
    assert snaps["as_of"].isna().all()
    split = assign_split(snaps, arrival_order(table), valid=0.25, test=0.2)
    assert dict(zip(snaps["lead_id"], split, strict=True)) == {
        "a": "train", "b": "train", "c": "train", "e": "valid", "d": "test"
    }  # fmt: skip
    assert split_method(table, "Lead Number")["out_of_time"]
    random = split_method(table.drop(columns="arrival_order"), None)
    assert random["method"] == "random" and "not out-of-time" in random["warning"]
