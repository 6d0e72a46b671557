"""Row-level validation: every input row is either kept or quarantined with a reason.

Rules are checked in a fixed order and the first that fails names the row's reason, so the
quarantine is deterministic and each row appears exactly once: valid + quarantined = input.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.config import ORDER_COLUMN, SchemaConfig
from leadscore.data.files import dumps_json
from leadscore.data.labels import decode_label, label_seen, outcome_labels
from leadscore.data.schema import (
    LABEL_ROLES,
    events_to_canonical,
    lead_key,
    leads_to_canonical,
    require_columns,
)
from leadscore.data.timestamps import parse_timestamps, read_timestamps
from leadscore.errors import ConfigError, EmptyInputError, RejectRateError

QUARANTINE_COLUMNS = ["lead_id", "reason", "raw"]
_HASH_KEYS = ("leadscore-seen-1", "leadscore-seen-2")  # two independent 64-bit hashes per id


class SeenIds:
    """The lead ids kept from earlier chunks of one table, for cross-chunk duplicate checks.

    Held as two 64-bit hashes per id (16 bytes; a Python string in a set costs about 100), sorted
    by the first, so a night of five million leads holds 80 MB instead of half a gigabyte. Two
    different ids are taken for one only if both hashes agree: odds about n² / 2¹²⁹.
    """

    def __init__(self) -> None:
        self.first = np.empty(0, np.uint64)
        self.second = np.empty(0, np.uint64)

    def __len__(self) -> int:
        return len(self.first)

    def contains(self, ids: pd.Series) -> np.ndarray:
        first, second = _hashes(ids)
        lo = np.searchsorted(self.first, first, side="left")
        hi = np.searchsorted(self.first, first, side="right")
        at = np.minimum(lo, max(len(self) - 1, 0))
        found = (hi > lo) & (self.second[at] == second) if len(self) else hi > lo
        for i in np.flatnonzero(hi - lo > 1):  # ids whose first hashes collide: check them all
            found[i] = bool((self.second[lo[i] : hi[i]] == second[i]).any())
        return found

    def add(self, ids: pd.Series) -> None:
        first, second = _hashes(ids)
        order = np.argsort(first, kind="stable")
        at = np.searchsorted(self.first, first[order])
        self.first = np.insert(self.first, at, first[order])
        self.second = np.insert(self.second, at, second[order])


@dataclass(frozen=True)
class ValidationResult:
    valid: pd.DataFrame
    quarantine: pd.DataFrame
    n_input: int
    label: dict = field(default_factory=dict)  # with invalid_converted rows: what the label held

    def summary(self) -> dict:
        reasons = self.quarantine["reason"].value_counts().sort_index()
        return {
            "input": self.n_input,
            "valid": len(self.valid),
            "quarantined": len(self.quarantine),
            "reasons": {str(k): int(v) for k, v in reasons.items()},
        } | ({"label": self.label} if self.label else {})


def validate_leads(
    raw: pd.DataFrame,
    *,
    schema: SchemaConfig,
    now: pd.Timestamp,
    future_tolerance_hours: float,
    seen: SeenIds | None = None,
    outcomes: pd.DataFrame | None = None,
    labels: bool = True,
) -> ValidationResult:
    """Check a leads table; duplicates keep their earliest row, later copies are quarantined.

    ``seen`` holds the leads kept from earlier chunks of the same table: their copies here are
    duplicates too (the copy read first wins), and this chunk's valid leads are added to it.
    ``outcomes`` is the table ``schema.outcomes`` maps, when the label lives there.

    With ``labels`` False (scoring), the label columns are not inputs: they are neither required
    nor checked, and a blank or malformed label leaves its lead to be scored. Training needs
    them, so there a label that is not declared quarantines its row.
    """
    if raw.empty:
        raise EmptyInputError("leads table is empty: there is nothing to validate or score")
    text, binary = _text_cells(raw, {*schema.roles_by_column(), *schema.id_from})
    leads = leads_to_canonical(text, schema)
    if not labels:
        leads = leads.drop(columns=[c for c in LABEL_ROLES if c in leads])
    reason = pd.Series(pd.NA, index=leads.index, dtype="object")
    _flag_each(reason, binary)
    _flag(reason, _blank(leads["lead_id"]), "missing_lead_id")
    leads["lead_id"] = leads["lead_id"].astype("str")
    limit = now + pd.Timedelta(hours=future_tolerance_hours)
    if "created_at" in leads:
        _check_timestamp(leads, "created_at", reason, limit, schema=schema, table="leads")
    if labels:
        _check_label(text, leads, reason, schema=schema, outcomes=outcomes)
    if schema.order_by:
        _check_order(leads, reason, schema)
    for name, column in {**schema.numeric, **schema.engagement_columns}.items():
        _to_number(leads, name, column, reason)
        if name in schema.engagement_columns:
            _flag(reason, leads[name] < 0, f"negative_count:{column}")
    if seen:
        _flag(reason, pd.Series(seen.contains(leads["lead_id"])), "duplicate_lead_id")
    ok = reason.isna()
    arrival = "created_at" if "created_at" in leads else ORDER_COLUMN
    first = leads.loc[ok].sort_values(arrival, kind="stable") if arrival in leads else leads[ok]
    later_copy = ok & first.duplicated("lead_id")
    _flag(reason, later_copy.reindex(leads.index, fill_value=False), "duplicate_lead_id")
    if seen is not None:
        seen.add(leads.loc[reason.isna(), "lead_id"])
    if "converted" in leads:
        leads["converted"] = leads["converted"].astype("Int8")
    result = _split(raw, leads, reason)
    if labels and (reason == "invalid_converted").any():
        return replace(result, label=label_seen(text, schema, outcomes))
    return result


def _check_label(
    raw: pd.DataFrame,
    leads: pd.DataFrame,
    reason: pd.Series,
    *,
    schema: SchemaConfig,
    outcomes: pd.DataFrame | None,
) -> None:
    """Decode the label (declared values, or the outcomes table) and check ``converted_at``."""
    if schema.outcomes is not None and outcomes is not None:
        per_key = outcome_labels(outcomes, schema)
        keys = lead_key(raw, schema).to_numpy()
        matched = per_key.reindex(keys)
        known = pd.Series(keys).isin(per_key.index).to_numpy()
        converted = np.where(known, matched["converted"].to_numpy(dtype="float64"), 0.0)
        leads["converted"] = converted
        leads["converted_at"] = matched["converted_at"].to_numpy()
        _flag(reason, pd.Series(np.isnan(converted)), "invalid_converted")
        _flag(
            reason,
            pd.Series(matched["bad_date"].fillna(False).to_numpy()),
            "unparseable_converted_at",
        )
    else:
        if "converted" in leads:
            leads["converted"] = decode_label(leads["converted"], schema.label)
            _flag(reason, leads["converted"].isna(), "invalid_converted")
        if "converted_at" in leads:
            given = ~_blank(leads["converted_at"])
            column = schema.leads.get("converted_at", "converted_at")
            read = read_timestamps(
                leads["converted_at"], schema.dates.of("leads", column), column=column
            )
            leads["converted_at"] = read.at
            _flag(reason, read.out_of_range, "converted_at_out_of_range")
            _flag(reason, given & leads["converted_at"].isna(), "unparseable_converted_at")
    if "converted_at" in leads and "created_at" in leads:
        _flag(reason, leads["converted_at"] < leads["created_at"], "converted_before_created")


def _check_order(leads: pd.DataFrame, reason: pd.Series, schema: SchemaConfig) -> None:
    """The ordering column as something sortable: a number, a moment, or the value's place in
    ``schema.order_values``."""
    column = str(schema.order_by)
    values = leads[ORDER_COLUMN]
    given = ~_blank(values)
    _flag(reason, ~given, f"missing:{column}")
    if schema.order_kind == "number":
        _to_number(leads, ORDER_COLUMN, column, reason)
        return
    if schema.order_kind == "date":
        spec = schema.dates.of("leads", column)
        read = read_timestamps(values, spec, column=column)
        leads[ORDER_COLUMN] = read.at
        _flag(reason, read.out_of_range, f"out_of_range:{column}")
    else:
        place = {v: float(i) for i, v in enumerate(schema.order_values)}
        leads[ORDER_COLUMN] = values.astype("str").str.strip().map(place).astype("float64")
    _flag(reason, given & leads[ORDER_COLUMN].isna(), f"unreadable:{column}")


def validate_events(
    raw: pd.DataFrame,
    known_leads: pd.Series,
    *,
    schema: SchemaConfig,
    now: pd.Timestamp,
    future_tolerance_hours: float,
) -> ValidationResult:
    """Check an event log against the valid leads; an empty log is valid (no engagement yet)."""
    text, binary = _text_cells(raw, set(schema.events.values()))
    events = events_to_canonical(text, schema)
    reason = pd.Series(pd.NA, index=events.index, dtype="object")
    _flag_each(reason, binary)
    _flag(reason, _blank(events["lead_id"]), "missing_lead_id")
    events["lead_id"] = events["lead_id"].astype("str")
    limit = now + pd.Timedelta(hours=future_tolerance_hours)
    _check_timestamp(events, "ts", reason, limit, schema=schema, table="events")
    _flag(reason, _blank(events["event_type"]), "missing_event_type")
    known = pc.is_in(
        pa.array(events["lead_id"], pa.string(), from_pandas=True),
        value_set=pa.array(known_leads.astype("str"), pa.string(), from_pandas=True),
    )  # Arrow's hash kernel: a night's event log is tens of millions of ids
    _flag(reason, ~pd.Series(known.to_numpy(zero_copy_only=False)), "unknown_lead_id")
    return _split(raw, events, reason)


def in_scope(
    raw: pd.DataFrame, schema: SchemaConfig, created_from: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The leads created on or after ``created_from`` (all without it), and those before.

    Earlier rows are out of the training's scope, not errors: they are counted, not quarantined,
    so a CRM's test period does not drown the real problems or trip the reject rate. A row whose
    date does not read stays in, for validation to quarantine.
    """
    if created_from is None:
        return raw, raw.iloc[:0]
    column = schema.leads.get("created_at")
    if column is None:
        raise ConfigError("validate.created_from needs a created_at column (schema.leads)")
    require_columns(raw, (column,), "leads")
    spec = schema.dates.of("leads", column)
    moments = parse_timestamps(raw[column], spec, column=column)
    before = (moments < pd.Timestamp(created_from).tz_localize("UTC")).to_numpy()
    return raw.loc[~before], raw.loc[before]


def events_in_scope(
    raw: pd.DataFrame, out_of_scope: pd.DataFrame, schema: SchemaConfig
) -> tuple[pd.DataFrame, int]:
    """The events of leads in scope, and how many belonged to leads out of it (not unknown
    leads: they are counted with their leads, not quarantined)."""
    if out_of_scope.empty:
        return raw, 0
    ids = leads_to_canonical(out_of_scope, schema)["lead_id"].astype("str")
    column = schema.events.get("lead_id", "lead_id")
    require_columns(raw, (column,), "events")
    theirs = raw[column].astype("str").isin(ids).to_numpy()
    return raw.loc[~theirs], int(theirs.sum())


def check_reject_rate(results: dict[str, ValidationResult], max_reject_rate: float) -> None:
    for table, result in results.items():
        rate = len(result.quarantine) / max(result.n_input, 1)
        if rate > max_reject_rate:
            seen = result.label
            raise RejectRateError(
                f"{table}: {len(result.quarantine)} of {result.n_input} rows rejected "
                f"({rate:.1%}) exceeds validate.max_reject_rate={max_reject_rate:.1%}; "
                f"reasons: {result.summary()['reasons']}"
                + (
                    f"; label values seen: {seen['seen']} (declared: positive "
                    f"{seen['positive']}, negative {seen['negative']}; schema.label)"
                    if seen
                    else ""
                )
            )


def _check_timestamp(
    frame: pd.DataFrame,
    role: str,
    reason: pd.Series,
    limit: pd.Timestamp,
    *,
    schema: SchemaConfig,
    table: str,
) -> None:
    """Parse a timestamp role as its table declares; flag missing, unreadable and future."""
    column = getattr(schema, table).get(role, role)
    blank = _blank(frame[role])
    read = read_timestamps(frame[role], schema.dates.of(table, column), table=table, column=column)
    frame[role] = read.at
    _flag(reason, blank, f"missing_{role}")
    _flag(reason, read.out_of_range, f"{role}_out_of_range")
    _flag(reason, frame[role].isna(), f"unparseable_{role}")
    _flag(reason, frame[role] > limit, f"{role}_in_future")


def _text_cells(raw: pd.DataFrame, used: set[str]) -> tuple[pd.DataFrame, pd.Series]:
    """``raw`` with the bytes of its binary cells (a BLOB, a Parquet binary column) in the
    columns it ``used`` read as UTF-8 text, and a label per row: ``not_text:<column>`` for the
    first cell that is not UTF-8 (made missing here, so nothing downstream trips on it)."""
    labels = pd.Series(pd.NA, index=raw.index, dtype="object")
    decoded: dict[str, pd.Series] = {}
    for column in [c for c in raw.columns if c in used and raw[c].dtype == object]:
        values = raw[column]
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            continue  # the common case: text already, checked at C speed
        text = values.map(_utf8)
        bad = text.map(lambda v: v is _NOT_TEXT)
        labels[bad.to_numpy() & labels.isna().to_numpy()] = f"not_text:{column}"
        decoded[column] = text.where(~bad, None)
    return (raw.assign(**decoded) if decoded else raw), labels


_NOT_TEXT = object()


def _utf8(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return _NOT_TEXT
    return value


def _to_number(frame: pd.DataFrame, name: str, column: str, reason: pd.Series) -> None:
    given = ~_blank(frame[name])
    frame[name] = pd.to_numeric(frame[name], errors="coerce")
    _flag(reason, given & frame[name].isna(), f"non_numeric:{column}")


def _flag(reason: pd.Series, mask: pd.Series, label: str) -> None:
    """Give ``label`` to rows that fail and have no earlier reason (first failure wins)."""
    reason[np.asarray(mask.fillna(False), dtype=bool) & reason.isna().to_numpy()] = label


def _flag_each(reason: pd.Series, labels: pd.Series) -> None:
    """Give each row its own label (NA: none), unless it has an earlier reason."""
    new = labels.notna().to_numpy() & reason.isna().to_numpy()
    reason[new] = labels[new].to_numpy()


def _blank(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "biufcmM":
        return values.isna()
    return values.isna() | (values.astype("str").str.strip() == "")


def _hashes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = ids.to_numpy(dtype=object)
    return tuple(pd.util.hash_array(values, hash_key=key, categorize=False) for key in _HASH_KEYS)


def _split(raw: pd.DataFrame, canonical: pd.DataFrame, reason: pd.Series) -> ValidationResult:
    bad = reason.notna()
    quarantine = pd.DataFrame(
        {
            "lead_id": canonical.loc[bad, "lead_id"],
            "reason": reason[bad].astype("str"),
            "raw": [dumps_json(row, indent=None) for row in raw.loc[bad].to_dict("records")],
        },
        columns=QUARANTINE_COLUMNS,
    ).reset_index(drop=True)
    valid = canonical.loc[~bad].reset_index(drop=True)
    if len(valid) + len(quarantine) != len(raw):  # the promise that nothing is lost
        raise AssertionError("validation lost rows: valid + quarantined != input")
    return ValidationResult(valid=valid, quarantine=quarantine, n_input=len(raw))
