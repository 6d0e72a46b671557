"""``params.yaml`` as one typed object, read and checked at the CLI boundary."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from leadscore.config.base import Section
from leadscore.config.schema import SchemaConfig
from leadscore.config.stages import (
    CalibrateConfig,
    EvaluateConfig,
    ExportConfig,
    FeaturizeConfig,
    GenerateConfig,
    MonitorConfig,
    PromoteConfig,
    ReportConfig,
    TrainConfig,
    ValidateConfig,
)
from leadscore.errors import ConfigError


class Params(Section):
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
