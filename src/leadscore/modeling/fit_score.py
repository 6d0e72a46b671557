"""The rule-based fit score: points a marketer assigns in YAML, audited per lead.

The model learns who converts; the fit score says who sales *wants*. Keeping it as readable rules
(and reporting the rules that fired for each lead) lets marketers change it without a retrain.
"""

from __future__ import annotations

import functools
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from leadscore.errors import ConfigError
from leadscore.features.cleaning import Columns, column, n_rows, per_distinct

Grade = Literal["A", "B", "C", "D"]
GRADES: tuple[Grade, ...] = ("A", "B", "C", "D")
# The feature columns a rule may read: cleaned form-fill and location fields, never raw PII.
FIT_FIELDS: tuple[str, ...] = (
    "job_seniority",
    "job_function",
    "company_size_band",
    "industry",
    "country",
    "world_region",
    "budget",
    "authority",
    "need",
    "timeline",
    "email_is_free",
    "email_is_valid",
    "phone_is_valid",
    "form_completeness",
    "source",
    "device_type",
    "is_bot",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """A half-open numeric interval [min, max) worth some points."""

    min: float = -np.inf
    max: float = np.inf
    points: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min >= self.max:
            raise ValueError(f"range min {self.min} is not below max {self.max}")
        return self


class Rule(_Strict):
    name: str
    field: str
    points: dict[str, float] = Field(default_factory=dict)
    ranges: tuple[Range, ...] = ()

    @model_validator(mode="after")
    def _well_formed(self, info: ValidationInfo) -> Rule:
        known = _known_fields(info)
        if self.field not in known:
            raise ValueError(
                f"rule '{self.name}': unknown field '{self.field}'; known fields: {list(known)}"
            )
        if bool(self.points) == bool(self.ranges):
            raise ValueError(f"rule '{self.name}': give either 'points' or 'ranges', not both")
        spans = sorted(self.ranges, key=lambda r: r.min)
        for left, right in pairwise(spans):
            if right.min < left.max:
                raise ValueError(
                    f"rule '{self.name}': ranges [{left.min}, {left.max}) and "
                    f"[{right.min}, {right.max}) overlap"
                )
        return self


class Disqualifier(_Strict):
    name: str
    field: str
    values: tuple[str, ...]
    max_grade: Grade = "D"

    @model_validator(mode="after")
    def _known_field(self, info: ValidationInfo) -> Disqualifier:
        if self.field not in _known_fields(info):
            raise ValueError(f"disqualifier '{self.name}': unknown field '{self.field}'")
        return self


def _default_grades() -> dict[Grade, float]:
    return {"A": 70, "B": 50, "C": 30}


class FitRules(_Strict):
    base: float = 0.0
    scale_max: float = Field(100.0, gt=0)
    grades: dict[Grade, float] = Field(default_factory=_default_grades)
    rules: tuple[Rule, ...]
    disqualifiers: tuple[Disqualifier, ...] = ()

    @model_validator(mode="after")
    def _grades_descend(self) -> FitRules:
        cuts = [self.grades.get(g) for g in GRADES[:-1]]
        given = [c for c in cuts if c is not None]
        if len(given) < len(cuts) or given != sorted(given, reverse=True):
            raise ValueError(f"grades must give descending cut-offs for A, B and C, got {cuts}")
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rule names must be unique")
        return self


def _known_fields(info: ValidationInfo) -> tuple[str, ...]:
    return FIT_FIELDS + tuple((info.context or {}).get("declared", ()))


def load_fit_rules(path: str | Path, declared: tuple[str, ...] = ()) -> FitRules:
    """Read and validate a rule file; ``declared`` adds a table's own feature names
    (``schema.form``, ``categorical``, ...) to the fields a rule may read."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
        return FitRules.model_validate(raw, context={"declared": declared})
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: fit-rule file not found") from exc
    except (ValidationError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: invalid fit rules: {exc}") from exc


def apply_fit_rules(features: Columns, rules: FitRules) -> dict[str, np.ndarray]:
    """Fit score (0–100), grade and the rules that fired ("; "-separated), one entry per row of
    feature columns (a DataFrame, or numpy arrays by name).

    One lookup per distinct value of each field: the same code costs microseconds for an online
    request of one row and stays vectorised for a nightly table.
    """
    n = n_rows(features)
    total = np.full(n, rules.base, dtype="float64")
    fired = np.full(n, "", dtype=object)
    for rule in rules.rules:
        if rule.field not in features:
            continue  # the table lacks this field: the rule cannot fire, rather than guess
        points = _rule_points(column(features, rule.field), rule)
        total += points
        hit = points != 0
        if hit.any():
            labels = per_distinct(points[hit], functools.partial(_fired, rule.name))
            fired[hit] = _appended(fired[hit], labels)
    score = np.clip(total, 0, rules.scale_max) * (100.0 / rules.scale_max)
    grade = _grade(score, rules)
    for dq in rules.disqualifiers:
        if dq.field in features:
            values = set(dq.values)
            hit = per_distinct(column(features, dq.field), values.__contains__).astype(bool)
            grade = np.where(hit & (grade < dq.max_grade), dq.max_grade, grade)
            fired[hit] = _appended(fired[hit], dq.name)
    return {"fit_score": score, "fit_grade": grade, "fit_rules": fired}


def _appended(fired: np.ndarray, label: np.ndarray | str) -> np.ndarray:
    """Each row's list of fired rules with one more label, "; "-separated."""
    return fired + np.where(fired == "", "", "; ").astype(object) + label


def _rule_points(values: np.ndarray, rule: Rule) -> np.ndarray:
    if rule.points:  # a missing value gets no points
        points = per_distinct(values, functools.partial(_points_for, rule), missing=0.0)
        return points.astype("float64")
    numbers = (
        values
        if values.dtype == "float64"
        else pd.to_numeric(values, errors="coerce").astype("float64")
    )
    points = np.zeros(len(values))
    for span in rule.ranges:
        points[(numbers >= span.min) & (numbers < span.max)] = span.points
    return points


def _fired(name: str, points: float) -> str:
    """How a rule that fired is listed: its name and signed points ("senior+30")."""
    return f"{name}{points:+g}"


def _points_for(rule: Rule, value: object) -> float:
    """A points rule's points for one (not missing) value."""
    return rule.points.get(_as_key(value), 0.0)


def _as_key(value: object) -> str:
    """Rule keys are text: 1.0 from a 0/1 flag matches the key "1" (missing values never get
    here: :func:`per_distinct` gives them no points)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _grade(score: np.ndarray, rules: FitRules) -> np.ndarray:
    cuts = [rules.grades[g] for g in GRADES[:-1]]
    conditions = [score >= c for c in cuts]
    return np.select(conditions, list(GRADES[:-1]), default="D").astype(object)
