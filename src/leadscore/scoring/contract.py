"""The artifact's input contract: the columns a model reads, under the user's names, and of what
kind.

It is derived once from the schema the model was trained with (the bundle's, so columns the
leakage audit excluded are not in it) and feeds everything that tells a caller what to send:
``input_schema.json``, the MLflow signature, the input example and the online API's request
models. A table trained on its own column names is therefore called with those names everywhere.

Only ``lead_id`` (and ``created_at`` when the table has one) is required of a lead: any other
column may be left out or blank, and a left-out column scores as a blank one. A table without an
id column has none: its lead id is hashed from the ``schema.id_from`` columns, which are in the
contract too (as text: the id is the hash of the values as the table writes them). A nightly table
must still hold every declared column (blank cells allowed), as at training time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leadscore.config import ORDER_COLUMN, SchemaConfig
from leadscore.data.schema import (
    LABEL_ROLES,
    PERSONAL_ROLES,
    REQUIRED_EVENT_ROLES,
    REQUIRED_LEAD_ROLES,
    TIMESTAMP_ROLES,
)
from leadscore.errors import ConfigError

Kind = Literal["text", "timestamp", "number"]
AS_OF = "as_of"  # a request's scoring moment (default: now)
EVENTS = "events"  # a request's own events, a list per lead
RESERVED = (AS_OF, EVENTS)
# what a declared column is called in the input schema, by the schema section declaring it
DECLARED_ROLES = {
    "form": "form",
    "categorical": "categorical",
    "numeric": "numeric",
    "engagement_columns": "engagement_count",
}


@dataclass(frozen=True)
class InputColumn:
    """One column of the contract: the user's name for it and leadscore's."""

    column: str  # as the user's table names it
    name: str  # leadscore's name: a role, a declared feature name or the ordering column
    role: str  # the role, or what kind of declared column it is
    kind: Kind
    required: bool
    personal: bool = False

    def describe(self) -> dict[str, object]:
        """The column as ``input_schema.json`` lists it."""
        return {
            "column": self.column,
            "role": self.role,
            "type": self.kind,
            "required": self.required,
            "personal": self.personal,
        }


def lead_columns(schema: SchemaConfig) -> tuple[InputColumn, ...]:
    """Every column of a lead that the model reads (labels are not inputs)."""
    roles = [
        InputColumn(
            column,
            role,
            role,
            "timestamp" if role in TIMESTAMP_ROLES else "text",
            required=role in REQUIRED_LEAD_ROLES,
            personal=role in PERSONAL_ROLES,
        )
        for role, column in schema.leads.items()
        if role not in LABEL_ROLES
    ]
    declared = [
        InputColumn(
            column, name, role, "text" if kind in ("form", "categorical") else "number", False
        )
        for kind, role in DECLARED_ROLES.items()
        for name, column in getattr(schema, kind).items()
    ]
    order = (
        [InputColumn(schema.order_by, ORDER_COLUMN, "order_by", "number", False)]
        if schema.order_by
        else []
    )
    read = {c.column for c in (*roles, *declared, *order)}
    ids = [
        InputColumn(column, f"id_from_{i}", "id_from", "text", False)
        for i, column in enumerate(schema.id_from)
        if column not in read
    ]
    # the required columns first, as a person reading the signature or the API looks for them
    columns = (*sorted(roles, key=lambda c: not c.required), *declared, *order, *ids)
    clash = sorted({c.column for c in columns} & set(RESERVED))
    if clash:
        raise ConfigError(f"lead column(s) {clash} clash with the request fields {list(RESERVED)}")
    return columns


def event_columns(schema: SchemaConfig) -> tuple[InputColumn, ...]:
    """Every column of an event log that the model reads."""
    return tuple(
        InputColumn(
            column,
            role,
            role,
            "timestamp" if role in TIMESTAMP_ROLES else "text",
            required=role in REQUIRED_EVENT_ROLES,
        )
        for role, column in schema.events.items()
    )


def nested_event_columns(schema: SchemaConfig) -> tuple[InputColumn, ...]:
    """The columns of an event given inside its lead's request: its lead is implied."""
    return tuple(c for c in event_columns(schema) if c.name != "lead_id")


def input_schema(schema: SchemaConfig) -> dict[str, list[dict]]:
    """The contract as plain JSON, for people and tools feeding the artifact.

    Timestamps are ISO-8601 text or datetimes (naive ones are taken as UTC); numbers may also
    come as text (as a CSV holds them). Personal columns are read (their validity is a signal)
    but never written anywhere.
    """
    return {
        "leads": [c.describe() for c in lead_columns(schema)],
        "events": [c.describe() for c in event_columns(schema)],
    }
