"""``schema``: the roles of the user's columns, how their tables write dates, labels and
outcomes."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from leadscore.config.base import Section, check_roles, yaml_text

LEAD_ROLES: tuple[str, ...] = (
    "lead_id",
    "created_at",
    "email",
    "phone",
    "first_name",
    "last_name",
    "company",
    "website",
    "job_title",
    "company_size",
    "industry",
    "country",
    "region",
    "city",
    "user_agent",
    "source",
    "landing_page",
    "budget",
    "authority",
    "need",
    "timeline",
    "converted",
    "converted_at",
)
EVENT_ROLES: tuple[str, ...] = ("lead_id", "ts", "event_type", "page")


ORDER_COLUMN = "arrival_order"  # canonical name of ``schema.order_by`` inside leadscore
DECLARED_KINDS: tuple[str, ...] = ("form", "categorical", "numeric", "engagement_columns")
_FEATURE_NAME = re.compile(r"[a-z][a-z0-9_]*")
TABLES: tuple[str, ...] = ("leads", "events", "outcomes")


class DateFormat(Section):
    """How a table writes its timestamps; nothing here means "ISO-8601 or an error".

    ``format`` is a strftime pattern (``%d-%m-%Y %H:%M``); ``dayfirst`` says which way numeric
    dates such as ``01-02-2018`` read, for columns that mix several layouts; ``unit`` is the unit
    of integer epochs (undeclared: read from their magnitude). See
    :mod:`leadscore.data.timestamps`.
    """

    format: str | None = None
    dayfirst: bool | None = None
    unit: Literal["s", "ms", "us", "ns"] | None = None

    @model_validator(mode="after")
    def _one_way_to_read_text(self) -> DateFormat:
        if self.format is not None and self.dayfirst is not None:
            raise ValueError("give either format or dayfirst, not both")
        if self.format is not None and "%" not in self.format:
            raise ValueError(f"format {self.format!r} is not a strftime pattern (e.g. '%d-%m-%Y')")
        return self


class DatesConfig(Section):
    """Date formats per table, and per column where one column differs from its table."""

    leads: DateFormat = DateFormat()
    events: DateFormat = DateFormat()
    outcomes: DateFormat = DateFormat()
    columns: dict[str, DateFormat] = Field(default_factory=dict)

    def of(self, table: str, column: str) -> DateFormat:
        """The declaration that applies to ``column`` of ``table`` (the user's column name)."""
        return self.columns.get(column, getattr(self, table))


class LabelConfig(Section):
    """Which values of the label column mean converted and which do not; any other value is a
    validation reason (the row is quarantined), never guessed. Compared as trimmed text, or as
    numbers when the column holds numbers."""

    positive: tuple[str, ...] = ("1",)
    negative: tuple[str, ...] = ("0",)

    @field_validator("positive", "negative", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        if isinstance(value, str | int | float | bool):
            value = [value]
        return [yaml_text(v) for v in value] if isinstance(value, list | tuple) else value

    @model_validator(mode="after")
    def _disjoint(self) -> LabelConfig:
        both = sorted(set(self.positive) & set(self.negative))
        if not self.positive or both:
            raise ValueError(f"label.positive must be non-empty and apart from negative: {both}")
        return self


class OutcomesConfig(Section):
    """The label in a second table (closed deals, say), joined on the lead id: a lead with a
    row is converted, or, with ``status``, one with a row whose status is in ``label.positive``;
    ``converted_at`` is the earliest date of its converting rows."""

    key: str
    lead_key: str | None = None  # the leads table's column it matches; default: the lead id
    status: str | None = None
    converted_at: str | None = None


class SchemaConfig(Section):
    """Maps each role of the data contract to the column that holds it in the user's table.

    Beyond the fixed roles, a real CRM export declares its own columns as ``feature name: column``:
    extra ``form`` fields (presence flag, answer, form completeness), ``categorical`` and
    ``numeric`` columns, and pre-aggregated ``engagement_columns`` (a list keeps the column's
    own names). ``order_by`` orders leads in time when there is no ``created_at`` (without
    either the split is random): a number, a date, or one of ``order_values`` (earliest first,
    e.g. month names). ``after_contact`` names columns that sales fills in after the outcome and
    ``exclude`` columns never to use; both are by the user's column name.

    A table without an id column declares ``id_from``: the columns whose values together
    identify a lead, hashed into a stable id (:func:`leadscore.data.schema.stable_ids`).
    ``outcomes`` maps a second table that holds the label; ``label`` says which values mean
    converted; ``dates`` how each table writes its timestamps. ``time_of_day`` says whether
    ``created_at`` carries a time of day (null: featurize decides from the training leads, all
    at midnight meaning no, and saves the answer with the model).
    """

    leads: dict[str, str] = Field(default_factory=lambda: {r: r for r in LEAD_ROLES})
    events: dict[str, str] = Field(default_factory=lambda: {r: r for r in EVENT_ROLES})
    id_from: tuple[str, ...] = ()
    outcomes: OutcomesConfig | None = None
    label: LabelConfig = LabelConfig()
    dates: DatesConfig = DatesConfig()
    time_of_day: bool | None = None
    order_by: str | None = None
    order_kind: Literal["number", "date", "values"] = "number"
    order_values: tuple[str, ...] = ()
    form: dict[str, str] = Field(default_factory=dict)
    categorical: dict[str, str] = Field(default_factory=dict)
    numeric: dict[str, str] = Field(default_factory=dict)
    engagement_columns: dict[str, str] = Field(default_factory=dict)
    after_contact: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ("", "Select", "select", "N/A", "n/a", "-", "none", "None")

    @field_validator("leads")
    @classmethod
    def _known_lead_roles(cls, value: dict[str, str]) -> dict[str, str]:
        return check_roles(value, LEAD_ROLES, "schema.leads")

    @field_validator("events")
    @classmethod
    def _known_event_roles(cls, value: dict[str, str]) -> dict[str, str]:
        return check_roles(value, EVENT_ROLES, "schema.events")

    @field_validator("engagement_columns", mode="before")
    @classmethod
    def _list_keeps_names(cls, value: object) -> object:
        return {c: c for c in value} if isinstance(value, list | tuple) else value

    @field_validator("order_values", mode="before")
    @classmethod
    def _values_as_text(cls, value: object) -> object:
        return [yaml_text(v) for v in value] if isinstance(value, list | tuple) else value

    @model_validator(mode="after")
    def _one_id(self) -> SchemaConfig:
        if self.id_from and "lead_id" in self.leads:
            raise ValueError("schema.id_from generates lead_id: leave lead_id out of schema.leads")
        return self

    @model_validator(mode="after")
    def _order_is_complete(self) -> SchemaConfig:
        values = self.order_kind == "values"
        if self.order_kind != "number" and not self.order_by:
            raise ValueError(f"schema.order_kind {self.order_kind} needs schema.order_by")
        if values != bool(self.order_values) or len(set(self.order_values)) < len(
            self.order_values
        ):
            raise ValueError("schema.order_kind: values goes with a list of distinct order_values")
        return self

    @model_validator(mode="after")
    def _one_label(self) -> SchemaConfig:
        if self.outcomes is not None and {"converted", "converted_at"} & set(self.leads):
            raise ValueError(
                "the label comes from schema.outcomes: leave converted and converted_at out of "
                "schema.leads"
            )
        return self

    @model_validator(mode="after")
    def _label_is_no_input(self) -> SchemaConfig:
        """The outcome (or its date) read as a feature, an id part or the order leaks the label
        into the model, or makes a lead's id change once it converts."""
        label = {self.leads[r] for r in ("converted", "converted_at") if r in self.leads}
        inputs = {*self.declared().values(), *self.id_from, self.order_by}
        both = sorted(label & inputs - {None})
        if both:
            raise ValueError(
                f"column(s) {both} hold the label (schema.leads.converted or converted_at): "
                "take them out of the declared features, schema.id_from and schema.order_by"
            )
        return self

    @model_validator(mode="after")
    def _declared_names_distinct(self) -> SchemaConfig:
        names = [n for kind in DECLARED_KINDS for n in getattr(self, kind)]
        clashes = sorted({n for n in names if names.count(n) > 1 or n in LEAD_ROLES})
        if clashes:
            raise ValueError(f"declared feature name(s) {clashes} are used twice or are roles")
        # engagement columns given as a list keep the table's own names, whatever they are
        bad = [
            n
            for kind in DECLARED_KINDS[:-1]
            for n in getattr(self, kind)
            if not _FEATURE_NAME.fullmatch(n)
        ]
        if bad:
            raise ValueError(f"feature names {bad} must be lower_case_with_underscores")
        return self

    def declared(self) -> dict[str, str]:
        """Every declared feature name -> its column in the user's table."""
        return {n: c for kind in DECLARED_KINDS for n, c in getattr(self, kind).items()}

    def roles_by_column(self) -> dict[str, str]:
        """Every column of the user's leads table that leadscore reads -> its canonical name."""
        order = {self.order_by: ORDER_COLUMN} if self.order_by else {}
        return (
            {c: r for r, c in self.leads.items()}
            | {c: n for n, c in self.declared().items()}
            | order
        )

    def without(self, columns: set[str]) -> SchemaConfig:
        """The same mapping with ``columns`` (the user's names) left out: what the model reads."""

        def keep(mapping: dict[str, str]) -> dict[str, str]:
            return {k: c for k, c in mapping.items() if c not in columns}

        return self.model_copy(
            update={"leads": keep(self.leads)}
            | {kind: keep(getattr(self, kind)) for kind in DECLARED_KINDS}
        )
