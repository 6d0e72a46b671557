"""Row-level validation: every input row is either kept or quarantined with a reason.

Rules are checked in a fixed order and the first that fails names the row's reason, so the
quarantine is deterministic and each row appears exactly once: valid + quarantined = input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.config import ORDER_COLUMN, SchemaConfig
from leadscore.errors import EmptyInputError, RejectRateError
from leadscore.schema import events_to_canonical, leads_to_canonical

QUARANTINE_COLUMNS = ["lead_id", "reason", "raw"]


@dataclass(frozen=True)
class ValidationResult:
    valid: pd.DataFrame
    quarantine: pd.DataFrame
    n_input: int

    def summary(self) -> dict:
        reasons = self.quarantine["reason"].value_counts().sort_index()
        return {
            "input": self.n_input,
            "valid": len(self.valid),
            "quarantined": len(self.quarantine),
            "reasons": {str(k): int(v) for k, v in reasons.items()},
        }


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Parse to tz-aware UTC; naive values are taken as UTC, garbage becomes NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


def validate_leads(
    raw: pd.DataFrame,
    schema: SchemaConfig,
    now: pd.Timestamp,
    future_tolerance_hours: float,
    seen: set[str] | None = None,
) -> ValidationResult:
    """Check a leads table; duplicates keep their earliest row, later copies are quarantined.

    ``seen`` holds the leads kept from earlier chunks of the same table: their copies here are
    duplicates too (the copy read first wins), and this chunk's valid leads are added to it.
    """
    if raw.empty:
        raise EmptyInputError("leads table is empty: there is nothing to validate or score")
    leads = leads_to_canonical(raw, schema)
    reason = pd.Series(pd.NA, index=leads.index, dtype="object")
    _flag(reason, _blank(leads["lead_id"]), "missing_lead_id")
    leads["lead_id"] = leads["lead_id"].astype("str")
    if "created_at" in leads:
        reason = _check_timestamp(leads, "created_at", reason, now, future_tolerance_hours)
    if "converted" in leads:
        leads["converted"] = pd.to_numeric(leads["converted"], errors="coerce")
        _flag(reason, ~leads["converted"].isin([0, 1]), "invalid_converted")
    if "converted_at" in leads:
        given = ~_blank(leads["converted_at"])
        leads["converted_at"] = parse_timestamps(leads["converted_at"])
        _flag(reason, given & leads["converted_at"].isna(), "unparseable_converted_at")
        if "created_at" in leads:
            _flag(reason, leads["converted_at"] < leads["created_at"], "converted_before_created")
    if schema.order_by:
        _flag(reason, _blank(leads[ORDER_COLUMN]), f"missing:{schema.order_by}")
        _to_number(leads, ORDER_COLUMN, schema.order_by, reason)
    for name, column in {**schema.numeric, **schema.engagement_columns}.items():
        _to_number(leads, name, column, reason)
        if name in schema.engagement_columns:
            _flag(reason, leads[name] < 0, f"negative_count:{column}")
    if seen:
        _flag(reason, leads["lead_id"].isin(seen), "duplicate_lead_id")
    ok = reason.isna()
    arrival = "created_at" if "created_at" in leads else ORDER_COLUMN
    first = leads.loc[ok].sort_values(arrival, kind="stable") if arrival in leads else leads[ok]
    later_copy = ok & first.duplicated("lead_id")
    _flag(reason, later_copy.reindex(leads.index, fill_value=False), "duplicate_lead_id")
    if seen is not None:
        seen.update(leads.loc[reason.isna(), "lead_id"])
    if "converted" in leads:
        leads["converted"] = leads["converted"].astype("Int8")
    return _split(raw, leads, reason)


def validate_events(
    raw: pd.DataFrame,
    schema: SchemaConfig,
    known_leads: pd.Series,
    now: pd.Timestamp,
    future_tolerance_hours: float,
) -> ValidationResult:
    """Check an event log against the valid leads; an empty log is valid (no engagement yet)."""
    events = events_to_canonical(raw, schema)
    reason = pd.Series(pd.NA, index=events.index, dtype="object")
    _flag(reason, _blank(events["lead_id"]), "missing_lead_id")
    events["lead_id"] = events["lead_id"].astype("str")
    reason = _check_timestamp(events, "ts", reason, now, future_tolerance_hours)
    _flag(reason, _blank(events["event_type"]), "missing_event_type")
    _flag(reason, ~events["lead_id"].isin(known_leads), "unknown_lead_id")
    return _split(raw, events, reason)


def check_reject_rate(results: dict[str, ValidationResult], max_reject_rate: float) -> None:
    for table, result in results.items():
        rate = len(result.quarantine) / max(result.n_input, 1)
        if rate > max_reject_rate:
            raise RejectRateError(
                f"{table}: {len(result.quarantine)} of {result.n_input} rows rejected "
                f"({rate:.1%}) exceeds validate.max_reject_rate={max_reject_rate:.1%}; "
                f"reasons: {result.summary()['reasons']}"
            )


def _check_timestamp(
    frame: pd.DataFrame, column: str, reason: pd.Series, now: pd.Timestamp, tolerance_h: float
) -> pd.Series:
    blank = _blank(frame[column])
    frame[column] = parse_timestamps(frame[column])
    _flag(reason, blank, f"missing_{column}")
    _flag(reason, frame[column].isna(), f"unparseable_{column}")
    _flag(reason, frame[column] > now + pd.Timedelta(hours=tolerance_h), f"{column}_in_future")
    return reason


def _to_number(frame: pd.DataFrame, name: str, column: str, reason: pd.Series) -> None:
    given = ~_blank(frame[name])
    frame[name] = pd.to_numeric(frame[name], errors="coerce")
    _flag(reason, given & frame[name].isna(), f"non_numeric:{column}")


def _flag(reason: pd.Series, mask: pd.Series, label: str) -> None:
    """Give ``label`` to rows that fail and have no earlier reason (first failure wins)."""
    reason[np.asarray(mask.fillna(False), dtype=bool) & reason.isna().to_numpy()] = label


def _blank(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "biufcmM":
        return values.isna()
    return values.isna() | (values.astype("str").str.strip() == "")


def _split(raw: pd.DataFrame, canonical: pd.DataFrame, reason: pd.Series) -> ValidationResult:
    bad = reason.notna()
    quarantine = pd.DataFrame(
        {
            "lead_id": canonical.loc[bad, "lead_id"],
            "reason": reason[bad].astype("str"),
            "raw": [json.dumps(row, default=str) for row in raw.loc[bad].to_dict("records")],
        },
        columns=QUARANTINE_COLUMNS,
    ).reset_index(drop=True)
    valid = canonical.loc[~bad].reset_index(drop=True)
    if len(valid) + len(quarantine) != len(raw):  # the promise that nothing is lost
        raise AssertionError("validation lost rows: valid + quarantined != input")
    return ValidationResult(valid=valid, quarantine=quarantine, n_input=len(raw))
