"""Request models generated from the artifact's input contract.

A model trained on a table with its own column names is called with those names: each field of
a lead (and of an event) is the user's column, typed by its kind in the contract, so a wrong type
or an unknown field is a 422 that names it, and the OpenAPI document lists the real columns.
Labels are not fields, so a request that sends one is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, NamedTuple

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    create_model,
    model_validator,
)

from leadscore.config import SchemaConfig
from leadscore.data.schema import stable_ids
from leadscore.scoring.contract import InputColumn, lead_columns, nested_event_columns


def _utc(moment: datetime) -> datetime:
    """Naive times are taken as UTC, as the batch path reads them; a moment whose UTC time falls
    outside years 1-9999 is a bad value (a 422), not Python's OverflowError (a 500)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time in UTC is outside years 1-9999") from None


def _text(value: object) -> object:
    """Only ISO-8601 text is a time here, as the spec says; pydantic alone would take numbers."""
    if not isinstance(value, str | datetime):
        raise ValueError("a time must be ISO-8601 text, e.g. 2026-11-01T09:30:00Z")
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_text), AfterValidator(_utc)]
# JSON has no NaN or Infinity; Python's parser takes them, a number of a lead may not be one
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]
_TYPES: dict[str, Any] = {"text": str, "timestamp": UtcDatetime, "number": FiniteNumber}


class Record(BaseModel):
    """A lead or an event of a request; ``fields`` pairs each field with its contract column."""

    model_config = ConfigDict(extra="forbid")
    fields: ClassVar[tuple[tuple[str, InputColumn], ...]] = ()
    by_name: ClassVar[dict[str, str]] = {}  # leadscore's name of a column -> its field
    id_from: ClassVar[tuple[str, ...]] = ()  # a table without an id: the columns hashed into it
    _sent: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_id_values(cls, data: Any, handler: ModelWrapValidatorHandler[Record]) -> Record:
        """Keep the ``id_from`` values as sent, before they are typed: the batch path hashes
        the table's own text (``2024-03-05 10:00``, not the moment it reads)."""
        record = handler(data)
        if cls.id_from and isinstance(data, dict):
            record._sent = {column: data.get(column) for column in cls.id_from}
        return record

    def value(self, name: str) -> Any:
        """The value of the column leadscore calls ``name`` (None when the model has none)."""
        field = self.by_name.get(name)
        return None if field is None else getattr(self, field)


def lead_ids(leads: Sequence[Record]) -> list[str]:
    """Each lead's id: its ``lead_id``, or for a model of a table without an id column the
    batch path's id, :func:`~leadscore.data.schema.stable_ids` of its ``id_from`` values."""
    columns = type(leads[0]).id_from if leads else ()
    if not columns:
        return [lead.value("lead_id") for lead in leads]
    sent = pd.DataFrame({c: [lead._sent.get(c) for lead in leads] for c in columns})
    return stable_ids(sent, columns).tolist()


class RequestBase(BaseModel):
    """What every scoring request has; :func:`request_models` adds the lead and events."""

    model_config = ConfigDict(extra="forbid")
    lead: Record
    events: list[Record] = Field(default_factory=list)
    as_of: UtcDatetime | None = Field(None, description="Scoring moment; default: now (UTC).")

    @model_validator(mode="after")
    def _created_by_then(self) -> RequestBase:
        """A lead created after the scoring moment did not exist yet (batch quarantines it)."""
        created = self.lead.value("created_at")
        if created is not None and created > (self.as_of or datetime.now(UTC)):
            raise ValueError(
                "the lead's created_at is after the scoring moment (as_of, default now)"
            )
        return self


class RequestModels(NamedTuple):
    lead: type[Record]
    event: type[Record]
    score: type[RequestBase]
    batch: type[BaseModel]


def request_models(schema: SchemaConfig) -> RequestModels:
    """The request models of a model trained with ``schema``."""
    lead = _record("Lead", lead_columns(schema))
    lead.id_from = schema.id_from
    event = _record("Event", nested_event_columns(schema))
    score = create_model(
        "ScoreRequest",
        __base__=RequestBase,
        lead=(lead, ...),
        events=(list[event], Field(default_factory=list)),  # type: ignore[valid-type]
    )
    batch = create_model(
        "BatchRequest",
        __config__=ConfigDict(extra="forbid"),
        leads=(list[score], ...),
    )
    return RequestModels(lead, event, score, batch)


def _record(title: str, columns: tuple[InputColumn, ...]) -> type[Record]:
    """A model whose fields are the columns, under the user's names (aliases: a column name need
    not be a Python name)."""
    fields: dict[str, Any] = {}
    for i, column in enumerate(columns):
        kind = _TYPES[column.kind]
        if column.required:
            shortest = 1 if column.kind == "text" else None
            fields[f"c{i}"] = (kind, Field(alias=column.column, min_length=shortest))
        else:
            fields[f"c{i}"] = (kind | None, Field(None, alias=column.column))
    model = create_model(title, __base__=Record, **fields)
    model.fields = tuple((f"c{i}", column) for i, column in enumerate(columns))
    model.by_name = {column.name: field for field, column in model.fields}
    return model
