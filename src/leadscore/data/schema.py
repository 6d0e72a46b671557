"""The data contract: which columns a leads or events table has, under the names leadscore uses.

A user's table keeps its own column names; ``params.yaml`` maps each role to a column and
:func:`to_canonical` renames once, at the boundary, so no other module knows the user's names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from leadscore.config import ORDER_COLUMN, SchemaConfig
from leadscore.errors import SchemaError

REQUIRED_LEAD_ROLES: tuple[str, ...] = ("lead_id", "created_at")
REQUIRED_EVENT_ROLES: tuple[str, ...] = ("lead_id", "ts", "event_type")
LABEL_ROLES: tuple[str, ...] = ("converted", "converted_at")
PERSONAL_ROLES: tuple[str, ...] = ("email", "phone", "first_name", "last_name")
TIMESTAMP_ROLES: tuple[str, ...] = ("created_at", "converted_at", "ts")

EVENT_TYPES: tuple[str, ...] = (
    "email_open",
    "email_click",
    "page_view",
    "pricing_view",
    "content_download",
    "webinar_attend",
    "demo_request",
    "chat_message",
    "form_submit",
    "unsubscribe",
    "email_bounce",
)
OTHER_EVENT = "other"


def to_canonical(
    frame: pd.DataFrame,
    mapping: dict[str, str],
    required: tuple[str, ...],
    table: str,
    declared: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Select the mapped columns of ``frame`` under their role names.

    Optional roles whose column is absent are simply left out: a feature is then absent rather
    than faked. ``declared`` columns (``name: column``, e.g. pre-aggregated engagement or the
    ordering column) must be present and are renamed to their declared names.
    """
    missing = [
        f"{role} (column '{mapping.get(role, role)}')"
        for role in required
        if mapping.get(role, role) not in frame.columns
    ]
    if missing:
        raise SchemaError(
            f"{table} table is missing required column(s): {', '.join(missing)}; "
            f"columns found: {list(frame.columns)}"
        )
    declared = declared or {}
    absent = sorted({c for c in declared.values() if c not in frame.columns})
    if absent:
        raise SchemaError(
            f"{table} table is missing declared column(s) {absent}; "
            f"columns found: {list(frame.columns)}"
        )
    pairs = [(role, column) for role, column in mapping.items() if column in frame.columns]
    return pd.DataFrame(
        {name: frame[column] for name, column in [*pairs, *declared.items()]}, index=frame.index
    )


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    """A stage's input lacks a column it needs: a schema error naming it, not a KeyError."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{table} table is missing column(s) {missing}; columns found: {list(frame.columns)}"
        )


def require_unique_names(names: Sequence[str], where: str, *, holder: str) -> None:
    """Stop with :class:`SchemaError` when ``holder`` (a CSV header, a Parquet schema) names a
    column twice: which of the two a role maps to would be a guess."""
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise SchemaError(f"{where}: {holder} names {doubled} more than once")


def leads_to_canonical(frame: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    """The leads table under leadscore's names; ``created_at`` is required only when mapped
    (without it, ``schema.order_by`` or a random split stands in for time). A table without an
    id column gets :func:`stable_ids` of ``schema.id_from``."""
    if schema.id_from:
        absent = [c for c in schema.id_from if c not in frame.columns]
        if absent:
            raise SchemaError(
                f"leads table is missing the schema.id_from column(s) {absent}; "
                f"columns found: {list(frame.columns)}"
            )
    required = tuple(r for r in REQUIRED_LEAD_ROLES if r in schema.leads or r == "lead_id")
    required = tuple(r for r in required if not (r == "lead_id" and schema.id_from))
    order = {ORDER_COLUMN: schema.order_by} if schema.order_by else {}
    leads = to_canonical(frame, schema.leads, required, "leads", schema.declared() | order)
    if schema.id_from:
        leads.insert(0, "lead_id", stable_ids(frame, schema.id_from))
    return leads


def stable_ids(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """An id per row from the values of ``columns``, the same on every run and in any row order.

    The values are joined as text (whole numbers without a decimal point, blanks as empty, so a
    CSV and a database give the same id) and hashed with SHA-256, of which 20 hex digits
    (80 bits) are kept: a chance of about n^2 / 2^81 that two of n different leads share one.
    Rows equal in every one of ``columns`` get one id: validation keeps the first and
    quarantines the others as ``duplicate_lead_id``.
    """
    text = [_as_text(frame[c]) for c in columns]
    joined = text[0].str.cat(text[1:], sep="\x1f") if len(text) > 1 else text[0]
    codes, uniques = pd.factorize(joined)
    digests = np.array([hashlib.sha256(v.encode()).hexdigest()[:20] for v in uniques], object)
    return pd.Series(digests[codes], index=frame.index, dtype="str")


def _as_text(values: pd.Series) -> pd.Series:
    if values.dtype.kind == "f":
        # whole numbers without ".0"; inf and numbers past int64 stay as written (no cast fails)
        whole = values.notna() & (values == np.floor(values)) & (values.abs() < 2**63)
        text = values.astype("str").where(~whole, values.where(whole).astype("Int64").astype("str"))
    else:
        text = values.astype("str").str.strip()
    return text.where(values.notna(), "").astype("str")


def lead_key(frame: pd.DataFrame, schema: SchemaConfig) -> pd.Series:
    """The column of the raw leads table that ``schema.outcomes`` joins on, as text: its
    ``lead_key``, else the lead id (generated when the table has none)."""
    outcomes = schema.outcomes
    if outcomes is not None and outcomes.lead_key is not None:
        column = outcomes.lead_key
    elif schema.id_from:
        return stable_ids(frame, schema.id_from)
    else:
        column = schema.leads.get("lead_id", "lead_id")
    if column not in frame.columns:
        raise SchemaError(
            f"leads table has no column '{column}' to join the outcomes on; "
            f"columns found: {list(frame.columns)}"
        )
    return _as_text(frame[column])


def events_to_canonical(frame: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    return to_canonical(frame, schema.events, REQUIRED_EVENT_ROLES, "events")
