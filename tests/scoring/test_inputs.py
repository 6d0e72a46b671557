"""The pyfunc's rows (the user's column names, nested events, a moment per row) read as batch
reads a nightly table, and refused where batch would quarantine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import SchemaConfig
from leadscore.errors import RejectRateError
from leadscore.scoring.inputs import read_rows

SCHEMA = SchemaConfig(
    leads={"lead_id": "Lead", "created_at": "Created", "source": "Channel"},
    events={"lead_id": "Lead", "ts": "When", "event_type": "What", "page": "Page"},
    numeric={"visits": "Visits"},
)
NOW = pd.Timestamp("2026-03-01T12:00:00Z")


def _rows(**overrides) -> pd.DataFrame:
    rows = {
        "Lead": ["A", "B"],
        "Created": ["2026-02-01T10:00:00Z", "2026-02-02T10:00:00+01:00"],
        "Visits": ["3", None],  # numbers as a CSV holds them
        "as_of": ["2026-02-10T00:00:00Z", None],
        "events": [[{"When": "2026-02-03T00:00:00Z", "What": "page_view", "Page": "/"}], []],
    }
    return pd.DataFrame(rows | overrides)


def test_rows_become_canonical_leads_events_and_moments():
    read = read_rows(_rows(), SCHEMA, now=NOW)
    leads = read.leads
    assert leads["lead_id"].tolist() == ["A", "B"]
    assert leads["created_at"].tolist() == [
        pd.Timestamp("2026-02-01T10:00:00Z"), pd.Timestamp("2026-02-02T09:00:00Z")
    ]  # fmt: skip
    np.testing.assert_array_equal(leads["visits"], [3.0, np.nan])
    assert leads["source"].isna().all()  # a column the rows leave out is blank
    assert read.as_of.tolist() == [pd.Timestamp("2026-02-10T00:00:00Z"), NOW]  # blank: now
    events = read.events
    assert events is not None
    assert events[["lead_id", "event_type", "page"]].values.tolist() == [["A", "page_view", "/"]]
    assert events["ts"].tolist() == [pd.Timestamp("2026-02-03T00:00:00Z")]


def test_without_an_events_column_there_is_no_event_log():
    read = read_rows(_rows().drop(columns="events"), SCHEMA, now=NOW)
    assert read.events is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Created": ["yesterday", "2026-02-02"]}, "A: unparseable_created_at"),
        ({"Lead": ["A", "A"]}, "duplicate_lead_id"),
        ({"Visits": ["many", None]}, "non_numeric:Visits"),
        ({"as_of": ["2026-01-01T00:00:00Z", None]}, "created_at is after the scoring moment"),
        ({"as_of": ["soon", None]}, "'soon' is not a timestamp"),
        ({"events": [[{"When": "later", "What": "page_view"}], None]}, "unparseable_ts"),
    ],
)
def test_what_batch_would_quarantine_is_refused_with_its_reason(overrides, message):
    with pytest.raises(RejectRateError, match=message):
        read_rows(_rows(**overrides), SCHEMA, now=NOW)
