"""The sections of ``params.yaml`` after ``schema``, one per stage or verb: generate,
validate, featurize, train, calibrate (threshold bands), evaluate, report, export, promote,
monitor."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from leadscore.config.base import Section, iso_moment, non_negative_days, yaml_text


class AnswerMeaningConfig(Section):
    """A form answer whose meaning changes: from the drift date on, a lead who means ``old``
    picks ``new`` (e.g. a redesigned drop-down that shifted the budget bands)."""

    field: Literal["budget", "authority", "need", "timeline"]
    mapping: dict[str, str]  # the answer a lead means -> the answer the form records


class DriftConfig(Section):
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


class GenerateConfig(Section):
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
        return non_negative_days(value)


class ValidateConfig(Section):
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
        return iso_moment(value, "validate.created_from")


class FeaturizeConfig(Section):
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
            return yaml_text(value)
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("snapshot_ages_days", "engagement_windows_days")
    @classmethod
    def _non_empty_non_negative(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return non_negative_days(value)


class TrainConfig(Section):
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
    # on those same large training windows the learning rate is at least this one (the search
    # tries rates from it up, 0.02 otherwise) and early stopping waits this many rounds at most:
    # fewer rounds at a higher rate, the final fit's cost being its rounds. See
    # leadscore.modeling.booster.for_window and leadscore.modeling.tuning.learning_rates.
    large_table_min_learning_rate: float = Field(0.1, gt=0, le=0.2)
    large_table_early_stopping_rounds: int = Field(30, ge=1)
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


class ThresholdConfig(Section):
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


class CalibrateConfig(Section):
    fit_rules: str = "config/fit_rules.yaml"
    method: Literal["auto", "sigmoid", "isotonic", "none"] = "auto"
    blend_weight: float | None = Field(None, ge=0, le=1)
    thresholds: ThresholdConfig = ThresholdConfig()


class EvaluateConfig(Section):
    ece_bins: int = Field(15, ge=2)


class ReportConfig(Section):
    top_features: int = Field(15, ge=1)


class ExportConfig(Section):
    registered_model_name: str = "lead-scorer"
    alias: str = "candidate"


class PromoteConfig(Section):
    """When ``leadscore promote`` moves the champion alias to the candidate."""

    metric: Literal["roc_auc", "pr_auc", "log_loss", "brier"] = "roc_auc"
    margin: float = Field(0.0, ge=0)  # the candidate must be better by at least this
    champion_alias: str = "champion"


class MonitorConfig(Section):
    """When ``leadscore monitor`` signals a retrain: the latest complete window's realized
    ROC-AUC below ``min_roc_auc``, or its ECE above ``max_ece``."""

    window: Literal["week", "run"] = "week"  # a week of scoring nights (Monday on), or one night
    min_roc_auc: float = Field(0.70, ge=0, le=1)
    max_ece: float = Field(0.05, ge=0, le=1)
    min_leads: int = Field(200, ge=1)  # a smaller window is reported but not judged
