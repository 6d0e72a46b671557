import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from leadscore.config import ORDER_COLUMN, FeaturizeConfig, SchemaConfig
from leadscore.data.snapshots import (
    arrival_order,
    assign_split,
    data_end,
    make_snapshots,
    split_leads,
    split_method,
    window_starts,
)
from leadscore.errors import ConfigError

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


def test_windows_by_their_start_and_mixed_with_a_fraction():
    order = pd.Series(
        pd.to_datetime([f"2026-0{m}-01" for m in range(1, 10)], utc=True), index=list("abcdefghi")
    )
    cfg = FeaturizeConfig(valid_from="2026-06-01", test_from="2026-08-01")
    leads = pd.DataFrame({"lead_id": order.index, "created_at": order.to_numpy()})
    split = split_leads(order, *window_starts(cfg, SchemaConfig(), leads))
    assert split.tolist() == ["train"] * 5 + ["valid"] * 2 + ["test"] * 2
    mixed = FeaturizeConfig(valid_fraction=1 / 3, test_from="2026-07-01")
    split = split_leads(order, *window_starts(mixed, SchemaConfig(), leads))
    assert split.tolist() == ["train"] * 3 + ["valid"] * 3 + ["test"] * 3


def test_windows_by_an_ordered_value_and_a_bad_start_is_named():
    schema = SchemaConfig.model_validate(
        {"order_by": "Month", "order_kind": "values", "order_values": ["Jan", "Feb", "Mar", "Apr"]}
    )
    leads = pd.DataFrame({"lead_id": list("abcd"), ORDER_COLUMN: [0.0, 1.0, 2.0, 3.0]})
    order = arrival_order(leads)
    cfg = FeaturizeConfig(valid_from="Mar", test_from="Apr")
    assert split_leads(order, *window_starts(cfg, schema, leads)).tolist() == [
        "train", "train", "valid", "test",
    ]  # fmt: skip
    with pytest.raises(ConfigError, match=r"'May' is not one of schema\.order_values"):
        window_starts(FeaturizeConfig(test_from="May"), schema, leads)
    with pytest.raises(ConfigError, match=r"needs created_at or schema\.order_by"):
        window_starts(cfg, SchemaConfig(), leads.drop(columns=ORDER_COLUMN))
