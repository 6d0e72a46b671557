"""The typed mirror of ``params.yaml``.

Loaded once at the CLI boundary; each stage receives only its own section. Every model forbids
unknown keys so that a misspelled parameter fails loudly instead of being silently ignored.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from leadscore.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class DateFormat(_Section):
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


class DatesConfig(_Section):
    """Date formats per table, and per column where one column differs from its table."""

    leads: DateFormat = DateFormat()
    events: DateFormat = DateFormat()
    outcomes: DateFormat = DateFormat()
    columns: dict[str, DateFormat] = Field(default_factory=dict)

    def of(self, table: str, column: str) -> DateFormat:
        """The declaration that applies to ``column`` of ``table`` (the user's column name)."""
        return self.columns.get(column, getattr(self, table))


class LabelConfig(_Section):
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
        return [_yaml_text(v) for v in value] if isinstance(value, list | tuple) else value

    @model_validator(mode="after")
    def _disjoint(self) -> LabelConfig:
        both = sorted(set(self.positive) & set(self.negative))
        if not self.positive or both:
            raise ValueError(f"label.positive must be non-empty and apart from negative: {both}")
        return self


class OutcomesConfig(_Section):
    """The label in a second table (closed deals, say), joined on the lead id: a lead with a
    row is converted, or, with ``status``, one with a row whose status is in ``label.positive``;
    ``converted_at`` is the earliest date of its converting rows."""

    key: str
    lead_key: str | None = None  # the leads table's column it matches; default: the lead id
    status: str | None = None
    converted_at: str | None = None


class SchemaConfig(_Section):
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
        return _check_roles(value, LEAD_ROLES, "schema.leads")

    @field_validator("events")
    @classmethod
    def _known_event_roles(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_roles(value, EVENT_ROLES, "schema.events")

    @field_validator("engagement_columns", mode="before")
    @classmethod
    def _list_keeps_names(cls, value: object) -> object:
        return {c: c for c in value} if isinstance(value, list | tuple) else value

    @field_validator("order_values", mode="before")
    @classmethod
    def _values_as_text(cls, value: object) -> object:
        return [_yaml_text(v) for v in value] if isinstance(value, list | tuple) else value

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


def _yaml_text(value: object) -> str:
    """A declared value as text. YAML reads an unquoted yes/no/true/false/on/off as a boolean,
    which could stand for ``YES`` or ``True`` or ``on``: that is refused, never guessed."""
    if isinstance(value, bool):
        raise ValueError(
            f"{value} is a YAML boolean: quote the value as the table writes it ('YES', 'True')"
        )
    return str(value)


def _iso_moment(value: object, key: str) -> object:
    """A date in the config is ISO-8601 (``2018-04-01``): a config is never read day-first."""
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    try:
        datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{key}: {text!r} is not an ISO-8601 date such as 2018-04-01") from exc
    return text


def _check_roles(value: dict[str, str], roles: tuple[str, ...], where: str) -> dict[str, str]:
    unknown = sorted(set(value) - set(roles))
    if unknown:
        raise ValueError(f"unknown role(s) {unknown} in {where}; known roles: {list(roles)}")
    return value


class AnswerMeaningConfig(_Section):
    """A form answer whose meaning changes: from the drift date on, a lead who means ``old``
    picks ``new`` (e.g. a redesigned drop-down that shifted the budget bands)."""

    field: Literal["budget", "authority", "need", "timeline"]
    mapping: dict[str, str]  # the answer a lead means -> the answer the form records


class DriftConfig(_Section):
    """A change in the funnel from ``start`` on (leads created on or after that day, UTC), for
    a long demo history that monitoring should flag; off while ``start`` is null.

    ``channel_mix`` multiplies the share of each named source (who arrives changes, not how they
    convert); ``base_rate_shift`` is added to every lead's log-odds of being a buyer (how many
    convert changes); ``answer_meaning`` changes what a form answer says about the lead. The
    truth follows each shift exactly (see :mod:`leadscore.generate.drift`).
    """

    start: date | None = None
    channel_mix: dict[str, float] = Field(default_factory=dict)
    base_rate_shift: float = 0.0
    answer_meaning: AnswerMeaningConfig | None = None

    @field_validator("channel_mix")
    @classmethod
    def _positive_factors(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in value.items() if not v > 0)
        if bad:
            raise ValueError(f"factors must be above 0, not for {bad}")
        return value

    @model_validator(mode="after")
    def _shift_needs_a_start(self) -> DriftConfig:
        shifts = bool(self.channel_mix) or self.base_rate_shift != 0 or self.answer_meaning
        if self.start is None and shifts:
            raise ValueError("a shift is set but no start date: set generate.drift.start")
        if self.start is not None and not shifts:
            raise ValueError(
                "start is set but no shift: set channel_mix, base_rate_shift or answer_meaning"
            )
        return self

    @property
    def active(self) -> bool:
        return self.start is not None


class GenerateConfig(_Section):
    n_leads: int = Field(50_000, gt=0)
    seed: int = 42
    start: str = "2025-10-01"
    end: str = "2026-09-30"
    # the truth is computed at each of these ages; must equal featurize.snapshot_ages_days
    snapshot_ages_days: tuple[float, ...] = (0.0, 1.0, 7.0)
    horizon_days: float = Field(30.0, gt=0)
    drift: DriftConfig = DriftConfig()

    @field_validator("snapshot_ages_days")
    @classmethod
    def _ages(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return _non_negative_days(value)


class ValidateConfig(_Section):
    max_reject_rate: float = Field(0.05, ge=0, le=1)
    future_tolerance_hours: float = Field(24.0, ge=0)
    leakage_threshold: float = Field(0.85, gt=0.5, le=1)  # ROC-AUC alone that flags a column
    # a column filled this many times as often for converted leads as for the others is flagged
    # as filled only after a deal (see leadscore.data.leakage)
    converter_only_ratio: float = Field(20.0, gt=1)
    audit_folds: int = Field(5, ge=2)  # out-of-fold target-rate encoding in the leakage audit
    keep: tuple[str, ...] = ()  # flagged or after-contact columns the user keeps anyway
    # leads created before this date are out of scope for training: counted, not quarantined
    # (a CRM's test period or a migration's leftovers are not errors to fix). Scoring ignores it.
    created_from: str | None = None

    @field_validator("created_from", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        return _iso_moment(value, "validate.created_from")


class FeaturizeConfig(_Section):
    snapshot_ages_days: tuple[float, ...] = (0.0, 1.0, 7.0)
    horizon_days: float = Field(30.0, gt=0)
    valid_fraction: float = Field(0.2, gt=0, lt=0.5)
    test_fraction: float = Field(0.2, gt=0, lt=0.5)
    engagement_windows_days: tuple[float, ...] = (1.0, 7.0, 30.0)
    half_life_days: float = Field(7.0, gt=0)
    # windows by where they start instead of by share: a date (ISO-8601) with created_at or a
    # date ordering column, a number or one of schema.order_values with those; given, it wins
    # over the fraction of the same window
    valid_from: str | float | None = None
    test_from: str | float | None = None

    @field_validator("valid_from", "test_from", mode="before")
    @classmethod
    def _date_or_number(cls, value: object) -> object:
        if isinstance(value, bool):
            return _yaml_text(value)
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("snapshot_ages_days", "engagement_windows_days")
    @classmethod
    def _non_empty_non_negative(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return _non_negative_days(value)


def _non_negative_days(value: tuple[float, ...]) -> tuple[float, ...]:
    if not value or min(value) < 0:
        raise ValueError("must be a non-empty list of non-negative numbers of days")
    return tuple(sorted(set(value)))


class TrainConfig(_Section):
    learning_rate: float = Field(0.05, gt=0, le=1)
    num_leaves: int = Field(7, ge=2)
    max_rounds: int = Field(2000, ge=1)
    early_stopping_rounds: int = Field(100, ge=1)
    min_child_samples: int = Field(200, ge=1)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    lambda_l2: float = Field(1.0, ge=0)
    rare_min_count: int = Field(30, ge=1)
    seed: int = 42
    num_threads: int = Field(2, ge=1)
    tuning_trials: int = Field(0, ge=0)  # Optuna trials on the validation window; 0 = off
    # the search judges each trial on at most this many rows of the two windows (a seeded sample
    # of leads); the final model still trains on all of them (leadscore.modeling.tuning).
    tuning_max_rows: int = Field(120_000, ge=1000)
    # training sets of at least twice this many rows: each tree is grown on a seeded random
    # sample of this many (LightGBM bagging), so a round costs what it costs on a mid-sized
    # table; the rounds still see every row in turn. See leadscore.modeling.training.lgbm_params.
    tree_max_rows: int = Field(500_000, ge=1000)
    # on those same large training windows the search tries learning rates from this one up
    # (0.02 otherwise): fewer rounds at a higher rate, the final fit's cost being its rounds.
    # See leadscore.modeling.tuning.learning_rates.
    large_table_min_learning_rate: float = Field(0.1, gt=0, le=0.2)
    # the training window's non-converters kept (seeded by lead id), weighted 1/fraction; all
    # converters are kept. 1 = no sampling. See leadscore.modeling.sampling.
    non_converter_fraction: float = Field(1.0, gt=0, le=1)
    # after early stopping, fit once more on the training and validation windows together, so the
    # shipped model has seen the latest leads (see leadscore.modeling.booster.train_final)
    refit: bool = False
    # fewer converted leads than this in the training window: no model is trained, the fit score
    # alone is calibrated and shipped (see leadscore.modeling.cold_start)
    min_conversions: int = Field(120, ge=0)


Band = Literal["sales_ready", "marketing_qualified"]


def _fixed_cuts() -> dict[Band, float]:
    return {"sales_ready": 0.3, "marketing_qualified": 0.05}


class ThresholdConfig(_Section):
    """How the `sales_ready` cut-off is chosen; `marketing_qualified` is always the break-even of
    a marketing touch (``marketing_cost_per_contact / value_per_conversion``)."""

    policy: Literal["capacity", "precision", "expected_value", "fixed"] = "capacity"
    capacity_per_day: float = Field(40.0, gt=0)  # capacity: leads sales can call per day
    target_precision: float = Field(0.3, gt=0, lt=1)  # precision: at least this share converts
    value_per_conversion: float = Field(5000.0, gt=0)
    cost_per_contact: float = Field(40.0, ge=0)  # expected_value: a sales call's cost
    marketing_cost_per_contact: float = Field(150.0, ge=0)
    fixed: dict[Band, float] = Field(default_factory=_fixed_cuts)

    @model_validator(mode="after")
    def _fixed_cuts_ordered(self) -> ThresholdConfig:
        cuts = self.fixed
        if set(cuts) != {"sales_ready", "marketing_qualified"} or not (
            0 <= cuts["marketing_qualified"] <= cuts["sales_ready"] <= 1
        ):
            raise ValueError(
                f"thresholds.fixed needs 0 <= marketing_qualified <= sales_ready <= 1, got {cuts}"
            )
        return self


class CalibrateConfig(_Section):
    fit_rules: str = "config/fit_rules.yaml"
    method: Literal["auto", "sigmoid", "isotonic", "none"] = "auto"
    blend_weight: float | None = Field(None, ge=0, le=1)
    thresholds: ThresholdConfig = ThresholdConfig()


class EvaluateConfig(_Section):
    ece_bins: int = Field(15, ge=2)


class ReportConfig(_Section):
    top_features: int = Field(15, ge=1)


class ExportConfig(_Section):
    registered_model_name: str = "lead-scorer"
    alias: str = "candidate"


class PromoteConfig(_Section):
    """When ``leadscore promote`` moves the champion alias to the candidate."""

    metric: Literal["roc_auc", "pr_auc", "log_loss", "brier"] = "roc_auc"
    margin: float = Field(0.0, ge=0)  # the candidate must be better by at least this
    champion_alias: str = "champion"


class MonitorConfig(_Section):
    """When ``leadscore monitor`` signals a retrain: the latest complete window's realized
    ROC-AUC below ``min_roc_auc``, or its ECE above ``max_ece``."""

    window: Literal["week", "run"] = "week"  # a week of scoring nights (Monday on), or one night
    min_roc_auc: float = Field(0.70, ge=0, le=1)
    max_ece: float = Field(0.05, ge=0, le=1)
    min_leads: int = Field(200, ge=1)  # a smaller window is reported but not judged


class Params(_Section):
    schema_: SchemaConfig = Field(SchemaConfig(), alias="schema")
    generate: GenerateConfig | None = None  # the demo's synthetic data only
    validate_: ValidateConfig = Field(ValidateConfig(), alias="validate")
    featurize: FeaturizeConfig = FeaturizeConfig()
    train: TrainConfig = TrainConfig()
    calibrate: CalibrateConfig = CalibrateConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    report: ReportConfig = ReportConfig()
    export: ExportConfig = ExportConfig()
    promote: PromoteConfig = PromoteConfig()
    monitor: MonitorConfig = MonitorConfig()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _keep_is_not_excluded(self) -> Params:
        both = sorted(set(self.validate_.keep) & set(self.schema_.exclude))
        if both:
            raise ValueError(f"validate.keep and schema.exclude both name {both}")
        return self

    @model_validator(mode="after")
    def _generator_matches_snapshots(self) -> Params:
        """The truth is computed for the snapshots featurize makes: same horizon, same ages."""
        if self.generate is None:
            return self
        for key in ("horizon_days", "snapshot_ages_days"):
            ours, theirs = getattr(self.generate, key), getattr(self.featurize, key)
            if ours != theirs:
                raise ValueError(f"generate.{key} ({ours}) must equal featurize.{key} ({theirs})")
        return self


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file; every error names the file and the offending key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in exc.errors())) from exc


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    return f"'{key}': {error['msg']}" if key else error["msg"]
