"""The typed mirror of ``params.yaml``.

Loaded once at the CLI boundary (:func:`load_params`); each stage receives only its own section.
Every model forbids unknown keys so that a misspelled parameter fails loudly instead of being
silently ignored. :mod:`~leadscore.config.schema` holds the ``schema`` section (the user's
columns), :mod:`~leadscore.config.stages` the sections of the stages and verbs,
:mod:`~leadscore.config.params` the whole file.
"""

from leadscore.config.params import Params, load_params
from leadscore.config.schema import (
    DECLARED_KINDS,
    EVENT_ROLES,
    LEAD_ROLES,
    ORDER_COLUMN,
    TABLES,
    DateFormat,
    DatesConfig,
    LabelConfig,
    OutcomesConfig,
    SchemaConfig,
)
from leadscore.config.stages import (
    AnswerMeaningConfig,
    Band,
    CalibrateConfig,
    DriftConfig,
    EvaluateConfig,
    ExportConfig,
    FeaturizeConfig,
    GenerateConfig,
    MonitorConfig,
    PromoteConfig,
    ReportConfig,
    ThresholdConfig,
    TrainConfig,
    ValidateConfig,
)

__all__ = [
    "DECLARED_KINDS",
    "EVENT_ROLES",
    "LEAD_ROLES",
    "ORDER_COLUMN",
    "TABLES",
    "AnswerMeaningConfig",
    "Band",
    "CalibrateConfig",
    "DateFormat",
    "DatesConfig",
    "DriftConfig",
    "EvaluateConfig",
    "ExportConfig",
    "FeaturizeConfig",
    "GenerateConfig",
    "LabelConfig",
    "MonitorConfig",
    "OutcomesConfig",
    "Params",
    "PromoteConfig",
    "ReportConfig",
    "SchemaConfig",
    "ThresholdConfig",
    "TrainConfig",
    "ValidateConfig",
    "load_params",
]
