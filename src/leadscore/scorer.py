"""The one object that turns raw leads into scores, for evaluation, batch, API and pyfunc alike.

It is built only from saved, plain-format state (JSON, YAML, LightGBM text) so that every way of
scoring reads the same files and therefore gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.calibration import Blend, Calibrator
from leadscore.compiled import ONE_THREAD_BELOW, BoosterModel, TreeModel, load_model
from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.features import (
    CategoryEncoder,
    FeatureInfo,
    build_features,
    describe_feature,
    feature_columns,
)
from leadscore.features.cleaning import Columns, column
from leadscore.fit_score import FitRules, fit_columns, load_fit_rules
from leadscore.io import read_json
from leadscore.thresholds import BANDS, assign_band

SCORE_COLUMNS: tuple[str, ...] = (
    "lead_id", "as_of", "probability", "score", "model_probability", "fit_score", "fit_grade",
    "band", "reasons", "fit_rules", "model_version", "scored_at",
)  # fmt: skip
# Files of a scorer bundle, written by the stage named beside each.
FEATURES_FILE = "features.json"  # featurize: feature options and the schema mapping
ENCODER_FILE = "encoder.json"  # train: category vocabularies
MODEL_FILE = "model.txt"  # train: LightGBM text model
FIT_RULES_FILE = "fit_rules.yaml"  # calibrate: the rules as trained with
CALIBRATION_FILE = "calibration.json"  # calibrate: blend, calibrator and thresholds
DRIFT_FILE = "drift_reference.json"  # export: the training window's score and feature profile
N_REASONS = 3
TOP_BAND: tuple[str, ...] = BANDS[:1]  # the leads whose reasons a batch run writes


@dataclass(frozen=True)
class Scorer:
    featurize: FeaturizeConfig
    schema: SchemaConfig
    encoder: CategoryEncoder
    booster: lgb.Booster
    fit_rules: FitRules
    blend: Blend
    calibrator: Calibrator
    thresholds: dict[str, float]
    model_version: str
    drift_reference: dict | None = None  # training-window profile, in exported artifacts
    model: TreeModel | None = None  # compiled inference of exported artifacts; None: the Booster

    @classmethod
    def load(cls, directory: str | Path, model_version: str = "dev") -> Scorer:
        directory = Path(directory)
        features = read_json(directory / FEATURES_FILE)
        calibration = read_json(directory / CALIBRATION_FILE)
        schema = SchemaConfig.model_validate(features["schema"])
        booster = lgb.Booster(model_file=str(directory / MODEL_FILE))
        return cls(
            featurize=FeaturizeConfig.model_validate(features["featurize"]),
            schema=schema,
            encoder=CategoryEncoder.from_dict(read_json(directory / ENCODER_FILE)),
            booster=booster,
            fit_rules=load_fit_rules(directory / FIT_RULES_FILE, tuple(schema.declared())),
            blend=Blend(**calibration["blend"]),
            calibrator=Calibrator(**calibration["calibrator"]),
            thresholds=calibration["thresholds"],
            model_version=model_version,
            drift_reference=_optional_json(directory / DRIFT_FILE),
            model=load_model(directory, booster, directory / MODEL_FILE),
        )

    @cached_property
    def signals(self) -> Signals:
        """The grouping of this model's features that reasons use."""
        return Signals.of(list(self.encoder.feature_names_in_), self.schema)

    def features(
        self, leads: pd.DataFrame, events: pd.DataFrame | None, as_of: pd.Timestamp | pd.Series
    ) -> pd.DataFrame:
        """Features of validated, canonical leads as of a moment (one, or one per lead), built by
        the same function that built the training snapshots."""
        moments = pd.to_datetime(as_of.array if isinstance(as_of, pd.Series) else as_of, utc=True)
        snapshots = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(), "as_of": moments})
        return build_features(snapshots, leads, events, self.featurize, self.schema)

    def score(
        self,
        leads: pd.DataFrame,
        events: pd.DataFrame | None,
        as_of: pd.Timestamp | pd.Series,
        explain_bands: tuple[str, ...] | None = None,
    ) -> pd.DataFrame:
        """Score validated, canonical leads as of a moment (one, or one per lead)."""
        return self.score_features(self.features(leads, events, as_of), explain_bands)

    def score_features(
        self, features: pd.DataFrame, explain_bands: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """The scores table of the design for rows that already carry their features.

        Reasons need exact TreeSHAP, which costs far more than the score itself; with
        ``explain_bands`` only leads in those bands get reasons (the others get ""), which is
        what a nightly run needs: sales reads the reasons of the leads it will call.
        """
        scores = self.score_columns(features, explain_bands)
        return pd.DataFrame(
            {
                "lead_id": features["lead_id"].to_numpy(),
                "as_of": features["as_of"].array,
                **{k: pd.array(v, dtype="str") if v.dtype == object else v
                   for k, v in scores.items()},
                "model_version": self.model_version,
                "scored_at": pd.Timestamp.now(tz="UTC"),
            },
            columns=list(SCORE_COLUMNS),
        )  # fmt: skip

    def score_leads(
        self, leads: Columns, events: Columns | None, as_of: np.ndarray
    ) -> dict[str, np.ndarray]:
        """:meth:`score` of leads given as numpy columns (an online request), as columns: the
        same features and scores without a pandas frame, which cost milliseconds per lead."""
        snapshots = {"lead_id": column(leads, "lead_id"), "as_of": as_of}
        features = feature_columns(snapshots, leads, events, self.featurize, self.schema)
        return self.score_columns(features)

    def score_columns(
        self, features: Columns, explain_bands: tuple[str, ...] | None = None
    ) -> dict[str, np.ndarray]:
        """Probability, score, blend parts, band, reasons and fired fit rules of feature
        columns (a DataFrame or numpy arrays by name); :meth:`score_features` explains."""
        encoded = self.encoder.matrix(features)
        model_p = (self.model or BoosterModel(self.booster)).predict(encoded)
        fit = fit_columns(features, self.fit_rules)
        probability = self.calibrator.predict(self.blend.logit(model_p, fit["fit_score"]))
        band = assign_band(probability, self.thresholds)
        wanted = np.ones(len(band), bool) if explain_bands is None else np.isin(band, explain_bands)
        reasons = np.full(len(band), "", dtype=object)
        if wanted.any():
            rows = encoded[wanted]
            # OpenMP threads for a few rows only add wake-ups, and wait for a busy core
            threads = {"num_threads": 1} if len(rows) < ONE_THREAD_BELOW else {}
            contributions = self.booster.predict(rows, pred_contrib=True, **threads)[:, :-1]
            values = self.encoder.decoded(encoded[wanted])
            reasons[wanted] = explain(contributions, values, self.signals)
        return {
            "probability": probability,
            "score": np.rint(probability * 100).astype("int64"),
            "model_probability": model_p,
            "fit_score": np.round(fit["fit_score"], 1),
            "fit_grade": fit["fit_grade"],
            "band": band,
            "reasons": reasons,
            "fit_rules": fit["fit_rules"],
        }


def _optional_json(path: Path) -> dict | None:
    return read_json(path) if path.exists() else None


@dataclass(frozen=True)
class Signals:
    """Features grouped by the raw input they come from, the way reasons name them; built once
    per scorer, as a lead's reasons only need its numbers."""

    infos: list[FeatureInfo]
    member: np.ndarray  # each feature's group
    onehot: np.ndarray  # features x groups

    @classmethod
    def of(cls, names: list[str], schema: SchemaConfig | None = None) -> Signals:
        infos = [describe_feature(n, schema) for n in names]
        sources = [i.source for i in infos]
        groups = sorted(set(sources))
        member = np.array([groups.index(s) for s in sources])
        onehot = np.zeros((len(names), len(groups)))
        onehot[np.arange(len(names)), member] = 1.0
        return cls(infos, member, onehot)


def explain(
    contributions: np.ndarray, values: np.ndarray, signals: Signals, top: int = N_REASONS
) -> list[str]:
    """Top signals per lead, grouped by raw input, in a marketer's words with signed log-odds.

    Each signal is named by the feature of its group that moved this lead's score most, with the
    lead's value: "Pricing-page views in the last 7 days: 3 (+0.54)"; a column the ``schema``
    declares is named as the CRM names it ("Total Time Spent on Website: 847 (+1.40)").
    """
    grouped = contributions @ signals.onehot
    order = np.argsort(-np.abs(grouped), axis=1)[:, :top]
    strength = np.abs(contributions)
    reasons = []
    for i, row in enumerate(order):
        parts = []
        for g in row:
            if grouped[i, g] == 0:
                continue
            inside = np.flatnonzero(signals.member == g)
            k = inside[np.argmax(strength[i, inside])]
            text = signals.infos[k].description
            parts.append(f"{text}: {_shown(values[i, k])} ({grouped[i, g]:+.2f})")
        reasons.append("; ".join(parts))
    return reasons


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "not given"
    if isinstance(value, float):
        return f"{value:g}" if value.is_integer() else f"{value:.2f}"
    return str(value)
