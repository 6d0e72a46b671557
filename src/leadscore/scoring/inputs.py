"""Rows in the user's column names, each with its own events and scoring moment (what the pyfunc
model is given), turned into the validated canonical tables that batch scoring reads.

The rows go through the nightly job's own validation (:func:`validate_leads`,
:func:`validate_events`), so a lead reads the same whichever way it comes in, and a row that a
nightly run would quarantine is refused here with the same reason. Columns of the contract that
a row leaves out are blank, as in the online API.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.config import SchemaConfig
from leadscore.data.timestamps import parse_timestamps
from leadscore.data.validation import ValidationResult, validate_events, validate_leads
from leadscore.errors import RejectRateError
from leadscore.scoring.contract import AS_OF, EVENTS, lead_columns, nested_event_columns

SHOWN_REASONS = 5  # refused rows named in an error message


@dataclass(frozen=True)
class ScoringInput:
    """Validated canonical leads, their events (None: no event log given) and moments."""

    leads: pd.DataFrame
    events: pd.DataFrame | None
    as_of: pd.Series  # UTC, one per lead, in the leads' order


def read_rows(rows: pd.DataFrame, schema: SchemaConfig, *, now: pd.Timestamp) -> ScoringInput:
    """Validate ``rows``: lead columns under the user's names, an optional ``as_of`` (default
    ``now``) and an optional ``events`` column holding each lead's events as a list of records
    under the event log's column names. Without that column there is no event log, as in a
    nightly run without ``--events``; with it, a lead without events has an empty list.

    Raises :class:`RejectRateError` naming the rows a nightly run would quarantine.
    """
    moments = _moments(rows, now)
    leads_raw = _complete(rows.drop(columns=[AS_OF, EVENTS], errors="ignore"), schema)
    checked = validate_leads(
        leads_raw, schema=schema, now=moments.max(), future_tolerance_hours=0.0, labels=False
    )
    _refuse(checked, "lead")
    leads = checked.valid
    if "created_at" in leads:
        _refuse_late(leads, moments)
    if EVENTS not in rows:
        return ScoringInput(leads, None, moments)
    events = validate_events(
        _events(rows, schema),
        leads["lead_id"],
        schema=schema,
        now=pd.Timestamp.now(tz="UTC"),  # as batch: later events are valid, only not yet known
        future_tolerance_hours=0.0,
    )
    _refuse(events, "event")
    return ScoringInput(leads, events.valid, moments)


def _moments(rows: pd.DataFrame, now: pd.Timestamp) -> pd.Series:
    if AS_OF not in rows:
        return pd.Series(now, index=range(len(rows)))
    given = rows[AS_OF].reset_index(drop=True)
    moments = parse_timestamps(given)
    bad = moments.isna() & given.notna()
    if bad.any():
        raise RejectRateError(f"{AS_OF} {given[bad].iloc[0]!r} is not a timestamp")
    return moments.fillna(now)


def _complete(leads: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    """Every column of the contract, blank where the rows leave it out."""
    absent = [c.column for c in lead_columns(schema) if c.column not in leads]
    blank = pd.DataFrame(None, index=leads.index, columns=absent, dtype=object)
    return pd.concat([leads, blank], axis=1).reset_index(drop=True)


def _events(rows: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    """The nested events as one event log in the user's column names."""
    columns = [c.column for c in nested_event_columns(schema)]
    owners, records = [], []
    for lead_id, listed in zip(rows[schema.leads["lead_id"]], rows[EVENTS], strict=True):
        if listed is None or (np.isscalar(listed) and pd.isna(listed)):
            continue
        for record in listed:
            owners.append(lead_id)
            records.append(record)
    events = pd.DataFrame.from_records(records, columns=columns) if records else None
    events = pd.DataFrame(columns=columns, dtype=object) if events is None else events
    events.insert(0, schema.events["lead_id"], pd.Series(owners, dtype=object))
    return events


def _refuse(result: ValidationResult, what: str) -> None:
    if result.quarantine.empty:
        return
    quarantine = result.quarantine
    named = "; ".join(
        f"{row.lead_id}: {row.reason}" for row in quarantine.head(SHOWN_REASONS).itertuples()
    )
    raise RejectRateError(
        f"{len(quarantine)} {what}(s) refused, as a nightly run would quarantine them: {named}"
    )


def _refuse_late(leads: pd.DataFrame, moments: pd.Series) -> None:
    """A lead created after its own scoring moment did not exist yet (batch quarantines it)."""
    late = (leads["created_at"] > moments).to_numpy()
    if late.any():
        ids = leads.loc[late, "lead_id"].head(SHOWN_REASONS).tolist()
        raise RejectRateError(f"lead(s) {ids}: created_at is after the scoring moment ({AS_OF})")
