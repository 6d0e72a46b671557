import json

import numpy as np
import pandas as pd
import pytest

from leadscore.config import SchemaConfig
from leadscore.data.validation import SeenIds, check_reject_rate, validate_events, validate_leads
from leadscore.errors import EmptyInputError, RejectRateError, SchemaError

NOW = pd.Timestamp("2026-06-01", tz="UTC")
SCHEMA = SchemaConfig()


def leads(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c"],
            "created_at": ["2026-01-01T10:00:00Z", "2026-01-02 11:00", "2026-01-03T12:00:00+01:00"],
            "email": ["x@acme.com", None, "y@gmail.com"],
            "converted": ["0", "1", "0"],
            "converted_at": [None, "2026-01-10", None],
        }
    )
    return frame.assign(**overrides)


def reasons(result) -> dict:
    return dict(zip(result.quarantine["lead_id"], result.quarantine["reason"], strict=True))


def test_clean_table_is_all_valid_and_typed():
    result = validate_leads(leads(), schema=SCHEMA, now=NOW, future_tolerance_hours=24)
    assert result.summary() == {"input": 3, "valid": 3, "quarantined": 0, "reasons": {}}
    assert str(result.valid["created_at"].dt.tz) == "UTC"
    assert result.valid["created_at"].iloc[2] == pd.Timestamp("2026-01-03T11:00", tz="UTC")
    assert result.valid["converted"].tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("created_at", "yesterday-ish", "unparseable_created_at"),
        ("created_at", None, "missing_created_at"),
        ("created_at", "2026-06-03", "created_at_in_future"),
        ("converted", "yes", "invalid_converted"),
        ("converted_at", "soon", "unparseable_converted_at"),
        ("converted_at", "2025-01-01", "converted_before_created"),
    ],
)
def test_each_bad_value_is_quarantined_with_its_reason(column, value, reason):
    frame = leads()
    frame.loc[1, column] = value
    result = validate_leads(frame, schema=SCHEMA, now=NOW, future_tolerance_hours=24)
    assert reasons(result) == {"b": reason}
    assert result.valid["lead_id"].tolist() == ["a", "c"]
    assert len(result.valid) + len(result.quarantine) == len(frame)


def test_future_tolerance_admits_small_clock_skew():
    frame = leads(created_at=["2026-06-01T12:00:00Z"] * 3, converted_at=[None] * 3)
    assert len(validate_leads(frame, schema=SCHEMA, now=NOW, future_tolerance_hours=24).valid) == 3
    assert (
        len(validate_leads(frame, schema=SCHEMA, now=NOW, future_tolerance_hours=1).quarantine) == 3
    )


def test_missing_lead_id_is_quarantined_with_raw_row():
    frame = leads()
    frame.loc[0, "lead_id"] = " "
    result = validate_leads(frame, schema=SCHEMA, now=NOW, future_tolerance_hours=24)
    assert result.quarantine["reason"].tolist() == ["missing_lead_id"]
    raw = json.loads(result.quarantine["raw"].iloc[0])
    assert raw["email"] == "x@acme.com" and raw["created_at"] == "2026-01-01T10:00:00Z"


def test_duplicate_ids_keep_the_earliest_row():
    frame = leads(lead_id=["a", "a", "c"], created_at=["2026-01-05", "2026-01-02", "2026-01-03"])
    result = validate_leads(frame, schema=SCHEMA, now=NOW, future_tolerance_hours=24)
    assert result.quarantine["reason"].tolist() == ["duplicate_lead_id"]
    kept = result.valid.set_index("lead_id").loc["a", "created_at"]
    assert kept == pd.Timestamp("2026-01-02", tz="UTC")
    assert json.loads(result.quarantine["raw"].iloc[0])["created_at"] == "2026-01-05"


def test_negative_and_non_numeric_counts():
    schema = SchemaConfig(engagement_columns=("visits",))
    frame = leads(visits=["3", "-1", "many"])
    result = validate_leads(frame, schema=schema, now=NOW, future_tolerance_hours=24)
    assert reasons(result) == {"b": "negative_count:visits", "c": "non_numeric:visits"}
    assert result.valid["visits"].tolist() == [3.0]


def test_empty_table_is_an_error():
    with pytest.raises(EmptyInputError, match="empty"):
        validate_leads(leads().iloc[:0], schema=SCHEMA, now=NOW, future_tolerance_hours=24)


def test_missing_required_column_names_it_and_lists_found():
    with pytest.raises(
        SchemaError, match=r"created_at \(column 'created_at'\).*found: \['lead_id'"
    ):
        validate_leads(
            leads().drop(columns="created_at"), schema=SCHEMA, now=NOW, future_tolerance_hours=24
        )


def test_user_column_names_through_schema_mapping():
    schema = SchemaConfig(leads={"lead_id": "Prospect ID", "created_at": "Created"})
    frame = leads().rename(columns={"lead_id": "Prospect ID", "created_at": "Created"})
    result = validate_leads(frame, schema=schema, now=NOW, future_tolerance_hours=24)
    assert list(result.valid.columns) == ["lead_id", "created_at"]
    assert len(result.valid) == 3


def test_events_outcomes():
    events = pd.DataFrame(
        {
            "lead_id": ["a", "zzz", None, "b", "c"],
            "ts": ["2026-01-02", "2026-01-02", "2026-01-02", "garbage", "2026-01-02"],
            "event_type": ["email_open", "page_view", "page_view", "page_view", None],
        }
    )
    result = validate_events(
        events, pd.Series(["a", "b", "c"]), schema=SCHEMA, now=NOW, future_tolerance_hours=24
    )
    assert result.quarantine["reason"].tolist() == [
        "unknown_lead_id",
        "missing_lead_id",
        "unparseable_ts",
        "missing_event_type",
    ]
    assert result.valid["lead_id"].tolist() == ["a"]
    assert result.summary()["input"] == 5


def test_empty_event_log_is_valid():
    events = pd.DataFrame({"lead_id": [], "ts": [], "event_type": []}, dtype="object")
    result = validate_events(
        events, pd.Series(["a"]), schema=SCHEMA, now=NOW, future_tolerance_hours=24
    )
    assert result.summary() == {"input": 0, "valid": 0, "quarantined": 0, "reasons": {}}


def test_reject_rate_limit_names_table_and_reasons():
    frame = leads()
    frame.loc[0, "created_at"] = "nope"
    result = validate_leads(frame, schema=SCHEMA, now=NOW, future_tolerance_hours=24)
    check_reject_rate({"leads": result}, 0.5)
    with pytest.raises(RejectRateError, match=r"leads: 1 of 3 rows rejected.*unparseable"):
        check_reject_rate({"leads": result}, 0.2)


def test_leads_kept_in_an_earlier_chunk_are_duplicates_in_a_later_one():
    seen = SeenIds()
    first = validate_leads(leads(), schema=SCHEMA, now=NOW, future_tolerance_hours=24, seen=seen)
    assert len(first.valid) == 3 and len(seen) == 3
    later = validate_leads(
        leads(lead_id=["c", "d", "a"]), schema=SCHEMA, now=NOW, future_tolerance_hours=24, seen=seen
    )
    assert reasons(later) == {"c": "duplicate_lead_id", "a": "duplicate_lead_id"}
    assert later.valid["lead_id"].tolist() == ["d"] and len(seen) == 4


def test_seen_ids_tell_apart_ids_whose_first_hash_collides():
    seen = SeenIds()
    seen.add(pd.Series(["a"]))
    seen.second = seen.second + np.uint64(1)  # as if another id had the first hash of "a"
    assert seen.contains(pd.Series(["a"])).tolist() == [False]
    seen.add(pd.Series(["a"]))  # now two ids share that first hash
    assert seen.contains(pd.Series(["a", "b"])).tolist() == [True, False]


def test_an_invalid_label_names_the_values_seen_with_counts_and_the_declared_ones():
    """Issue 31: an invalid_converted rejection said nothing of what the column holds."""
    schema = SchemaConfig.model_validate({"label": {"positive": ["Yes"], "negative": ["No"]}})
    frame = pd.concat([leads()] * 4, ignore_index=True)
    frame["lead_id"] = [f"l{i}" for i in range(len(frame))]
    frame["converted"] = ["TRUE"] * 6 + ["FALSE"] * 3 + ["Yes", None, "No"]
    frame["converted_at"] = None
    result = validate_leads(frame, schema=schema, now=NOW, future_tolerance_hours=24)
    assert result.summary()["label"] == {
        "seen": {"TRUE": 6, "FALSE": 3, "": 1, "No": 1, "Yes": 1},
        "positive": ["Yes"],
        "negative": ["No"],
    }
    with pytest.raises(RejectRateError) as refused:
        check_reject_rate({"leads": result}, 0.05)
    message = str(refused.value)
    assert "'TRUE': 6, 'FALSE': 3, '': 1" in message and "positive ['Yes']" in message
    assert "x@acme.com" not in message  # label values only, never a lead's other fields


def test_a_clean_label_adds_nothing_to_the_summary():
    result = validate_leads(leads(), schema=SCHEMA, now=NOW, future_tolerance_hours=24)
    assert "label" not in result.summary()
