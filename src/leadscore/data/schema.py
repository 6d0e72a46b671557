"""The data contract: which columns a leads or events table has, under the names leadscore uses.

A user's table keeps its own column names; ``params.yaml`` maps each role to a column and
:func:`to_canonical` renames once, at the boundary, so no other module knows the user's names.
"""

from __future__ import annotations

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


def leads_to_canonical(frame: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    """The leads table under leadscore's names; ``created_at`` is required only when mapped
    (without it, ``schema.order_by`` or a random split stands in for time)."""
    required = tuple(r for r in REQUIRED_LEAD_ROLES if r in schema.leads or r == "lead_id")
    order = {ORDER_COLUMN: schema.order_by} if schema.order_by else {}
    return to_canonical(frame, schema.leads, required, "leads", schema.declared() | order)


def events_to_canonical(frame: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    return to_canonical(frame, schema.events, REQUIRED_EVENT_ROLES, "events")
