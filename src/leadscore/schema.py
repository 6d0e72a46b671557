"""The data contract: which columns a leads or events table has, under the names leadscore uses.

A user's table keeps its own column names; ``params.yaml`` maps each role to a column and
:func:`to_canonical` renames once, at the boundary, so no other module knows the user's names.
"""

from __future__ import annotations

import pandas as pd

from leadscore.config import SchemaConfig
from leadscore.errors import SchemaError

REQUIRED_LEAD_ROLES: tuple[str, ...] = ("lead_id", "created_at")
REQUIRED_EVENT_ROLES: tuple[str, ...] = ("lead_id", "ts", "event_type")
LABEL_ROLES: tuple[str, ...] = ("converted", "converted_at")
PERSONAL_ROLES: tuple[str, ...] = ("email", "phone", "first_name", "last_name")
TIMESTAMP_ROLES: tuple[str, ...] = ("created_at", "converted_at", "ts")

EVENT_TYPES: tuple[str, ...] = (
    "email_open", "email_click", "page_view", "pricing_view", "content_download",
    "webinar_attend", "demo_request", "chat_message", "form_submit", "unsubscribe",
    "email_bounce",
)  # fmt: skip
OTHER_EVENT = "other"


def to_canonical(
    frame: pd.DataFrame,
    mapping: dict[str, str],
    required: tuple[str, ...],
    table: str,
    extra_columns: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Select and rename the mapped columns of ``frame`` to their role names.

    Optional roles whose column is absent are simply left out: a feature is then absent rather
    than faked. ``extra_columns`` (pre-aggregated engagement) keep their own names.
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
    absent_extra = [c for c in extra_columns if c not in frame.columns]
    if absent_extra:
        raise SchemaError(
            f"{table} table is missing declared engagement column(s) {absent_extra}; "
            f"columns found: {list(frame.columns)}"
        )
    renames = {column: role for role, column in mapping.items() if column in frame.columns}
    keep = list(renames) + [c for c in extra_columns if c not in renames]
    return frame[keep].rename(columns=renames)


def leads_to_canonical(frame: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    return to_canonical(
        frame, schema.leads, REQUIRED_LEAD_ROLES, "leads", schema.engagement_columns
    )


def events_to_canonical(frame: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    return to_canonical(frame, schema.events, REQUIRED_EVENT_ROLES, "events")
