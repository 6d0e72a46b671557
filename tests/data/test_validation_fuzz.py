"""Fuzzing the validator on tables of a CRM's own shape: every reason it knows, counts and
declared numbers, a label in words, an ordering column and ids made from columns included.

Each row gets at most one fault, planted at random; the table is validated in random chunks (a
nightly run's way, duplicates across chunks found through SeenIds). Whatever the table, nothing
raises, every row is kept or quarantined (valid + quarantined = input), the quarantine is
exactly the planted rows with their reasons, and the valid rows featurize. Labels are checked
for training; at scoring time they are not inputs, and their faults are noise (issue 19).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.data.validation import SeenIds, validate_leads
from leadscore.features import build_features

NOW = pd.Timestamp("2026-06-01", tz="UTC")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CRM = SchemaConfig.model_validate(
    {
        "leads": {"lead_id": "Id", "created_at": "Created", "email": "Email",
                  "converted": "Won", "converted_at": "Won at"},
        "label": {"positive": ["YES"], "negative": ["NO"]},
        "engagement_columns": {"visits": "Visits"},
        "numeric": {"budget_k": "Budget"},
    }
)  # fmt: skip
ORDERED = SchemaConfig.model_validate(
    {
        "leads": {"email": "Email", "converted": "Won"},
        "id_from": ["Email", "Phone"],
        "label": {"positive": ["YES"], "negative": ["NO"]},
        "order_by": "Month",
        "order_kind": "values",
        "order_values": list(MONTHS),
    }
)
NOT_DATES = st.one_of(
    st.text(alphabet="xyzqk!#%&*_", min_size=1, max_size=10),
    st.sampled_from(["soon", "31/02/2026", "2026-13-45", "24:61", "\x00"]),
)
NOT_NUMBERS = st.one_of(
    st.text(alphabet="xyzqk!#%&*_", min_size=1, max_size=10), st.sampled_from(["lots", "1,5"])
)
NOT_LABELS = st.one_of(
    st.sampled_from(["MAYBE", "yes ", "1", "2.5", "inf", "Won"]),
    st.floats(allow_nan=False).map(str),
)
# fault -> (column, value strategy, reason, a label fault?)
CRM_FAULTS = {
    "no id": ("Id", st.none(), "missing_lead_id", False),
    "bytes id": ("Id", st.just(b"\xff\xfe"), "not_text:Id", False),
    "no date": ("Created", st.none(), "missing_created_at", False),
    "junk date": ("Created", NOT_DATES, "unparseable_created_at", False),
    "future": ("Created", st.just("2031-01-01T00:00:00Z"), "created_at_in_future", False),
    "junk visits": ("Visits", NOT_NUMBERS, "non_numeric:Visits", False),
    "negative visits": ("Visits", st.integers(-1000, -1).map(str), "negative_count:Visits", False),
    "junk budget": ("Budget", NOT_NUMBERS, "non_numeric:Budget", False),
    "junk label": ("Won", NOT_LABELS, "invalid_converted", True),
    "junk won at": ("Won at", NOT_DATES, "unparseable_converted_at", True),
    "won before": ("Won at", st.just("2020-01-01T00:00:00Z"), "converted_before_created", True),
}
ORDERED_FAULTS = {
    "no month": ("Month", st.none(), "missing:Month", False),
    "junk month": ("Month", st.sampled_from(["Smarch", "13", "jan"]), "unreadable:Month", False),
    "bytes email": ("Email", st.just(b"\xc3\x28"), "not_text:Email", False),
    "junk label": ("Won", NOT_LABELS, "invalid_converted", True),
}


def _crm(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Id": [f"C{i:04d}" for i in range(n)],
            "Created": [f"2026-0{1 + i % 5}-1{i % 9}T10:00:00Z" for i in range(n)],
            "Email": [f"person{i}@example.com" for i in range(n)],
            "Won": ["YES" if i % 4 == 0 else "NO" for i in range(n)],
            "Won at": [f"2026-07-0{1 + i % 9}T00:00:00Z" if i % 4 == 0 else None for i in range(n)],
            "Visits": [str(i % 13) for i in range(n)],
            "Budget": [str(10.5 * (i % 7)) for i in range(n)],
        }
    ).astype(object)


def _ordered(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Email": [f"person{i}@example.com" for i in range(n)],
            "Phone": [float(i) if i % 5 else np.inf for i in range(n)],  # inf: no cast fails
            "Month": [MONTHS[i % 12] for i in range(n)],
            "Won": ["YES" if i % 3 == 0 else "NO" for i in range(n)],
        }
    ).astype({"Email": object, "Month": object, "Won": object})


@st.composite
def tables(draw, schema_name: str) -> tuple[pd.DataFrame, list[str], list[int]]:
    """A table with faults planted, the reasons expected at training and at scoring, and the
    chunk boundaries to validate it in."""
    faults = CRM_FAULTS if schema_name == "crm" else ORDERED_FAULTS
    n = draw(st.integers(5, 40))
    table = (_crm if schema_name == "crm" else _ordered)(n)
    planted = draw(st.lists(st.sampled_from(sorted(faults)), max_size=n // 2))
    rows = draw(st.permutations(range(n)))
    training, scoring = [], []
    fault_of = {}
    for row, fault in zip(rows, planted, strict=False):
        column, values, reason, label = faults[fault]
        table.at[row, column] = draw(values)
        fault_of[row] = (reason, label)
        training.append(reason)
        scoring += [] if label else [reason]
    if schema_name == "crm" and draw(st.booleans()):  # a copy of the last row, read after it
        table = pd.concat([table, table.iloc[[-1]]], ignore_index=True)
        reason, label = fault_of.get(n - 1, ("duplicate_lead_id", True))
        training.append(reason)  # a faulty row's copy has its fault; a valid one's is a copy
        scoring.append("duplicate_lead_id" if label else reason)
    cuts = sorted(draw(st.lists(st.integers(1, max(len(table) - 1, 1)), max_size=3, unique=True)))
    return table, [sorted(training), sorted(scoring)], cuts


def _validate(table: pd.DataFrame, cuts: list[int], schema: SchemaConfig, *, labels: bool):
    """Validate ``table`` in the chunks ``cuts`` make, as a nightly run would."""
    seen = SeenIds()
    bounds = zip([0, *cuts], [*cuts, len(table)], strict=True)
    parts = [table.iloc[start:end] for start, end in bounds if end > start]
    results = [
        validate_leads(
            part, schema=schema, now=NOW, future_tolerance_hours=0, seen=seen, labels=labels
        )
        for part in parts
    ]
    valid = pd.concat([r.valid for r in results], ignore_index=True)
    quarantine = pd.concat([r.quarantine for r in results], ignore_index=True)
    return valid, quarantine


FUZZ = settings(max_examples=80, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


@FUZZ
@given(case=st.one_of(tables("crm"), tables("ordered")))
def test_every_planted_fault_is_quarantined_with_its_reason_and_nothing_else(case):
    table, (training, scoring), cuts = case
    schema = CRM if "Id" in table else ORDERED
    for labels, expected in ((True, training), (False, scoring)):
        valid, quarantine = _validate(table, cuts, schema, labels=labels)
        assert len(valid) + len(quarantine) == len(table)
        assert sorted(quarantine["reason"]) == expected, labels
        if len(valid):
            moments = pd.Series(NOW, index=valid.index)
            snapshots = pd.DataFrame({"lead_id": valid["lead_id"], "as_of": moments})
            features = build_features(snapshots, valid, None, FeaturizeConfig(), schema)
            assert len(features) == len(valid)
