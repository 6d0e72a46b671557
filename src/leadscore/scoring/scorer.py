"""The one object that turns leads into scores, for evaluation, batch, API and pyfunc alike.

It is built only from the bundle's saved, plain-format state (JSON, YAML, LightGBM text), so
every way of scoring reads the same files and therefore gives the same numbers. Scoring is two
steps whatever the container: :meth:`Scorer.featurize` (leads as a DataFrame, or as numpy
columns for an online request) and :meth:`Scorer.score`; :meth:`Scorer.scores_table` wraps the
second in the scores table of the design.

A bundle of the cold start (too few conversions to train, see
:mod:`leadscore.modeling.cold_start`) has no booster: its scorer gives the calibrated fit score,
a missing ``model_probability``, and the fit rules that fired as the reasons.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeAlias, overload

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.data.files import read_json
from leadscore.features import CategoryEncoder, build_features, feature_columns
from leadscore.features.cleaning import Columns, column, n_rows
from leadscore.modeling.booster import shap_values, split_trees
from leadscore.modeling.calibration import Blend, Calibrator
from leadscore.modeling.cold_start import read_booster
from leadscore.modeling.fit_score import FitRules, apply_fit_rules, load_fit_rules
from leadscore.modeling.thresholds import BANDS, assign_band
from leadscore.scoring.background import background
from leadscore.scoring.bundle import (
    BOOSTER_FILE,
    CALIBRATION_FILE,
    DRIFT_FILE,
    ENCODER_FILE,
    FEATURES_FILE,
    FIT_RULES_FILE,
)
from leadscore.scoring.compiled import ONE_THREAD_BELOW, BoosterPredictor, Predictor, load_predictor
from leadscore.scoring.reasons import Signals, explain

# the scores table's columns and their types (those of a scored row: a table without a row, on
# a night whose every lead was rejected, has them too)
SCORE_DTYPES: dict[str, str] = {
    "lead_id": "str",
    "as_of": "datetime64[us, UTC]",
    "probability": "float64",
    "score": "int64",
    "model_probability": "float64",
    "fit_score": "float64",
    "fit_grade": "str",
    "band": "str",
    "reasons": "str",
    "fit_rules": "str",
    "model_version": "str",
    "scored_at": "datetime64[us, UTC]",
}
SCORE_COLUMNS: tuple[str, ...] = tuple(SCORE_DTYPES)
TOP_BAND: tuple[str, ...] = BANDS[:1]  # the leads whose reasons a batch run writes
# the share of the trees whose TreeSHAP runs on the background thread when an online call is
# explained: the calling thread first computes the score, fit score and bands, then the rest
BACKGROUND_SHARE = 0.6
# scoring moments: one for every lead, one per lead, or naive UTC datetime64 (online)
Moments: TypeAlias = pd.Timestamp | pd.Series | np.ndarray


@dataclass(frozen=True)
class Scorer:
    featurize_cfg: FeaturizeConfig
    schema: SchemaConfig
    encoder: CategoryEncoder
    booster: lgb.Booster | None  # None: no model was trained (cold start)
    fit_rules: FitRules
    blend: Blend
    calibrator: Calibrator
    thresholds: dict[str, float]
    model_version: str
    drift_reference: dict | None = None  # training-window profile, in exported artifacts
    predictor: Predictor | None = None  # compiled trees of exported artifacts; None: the Booster
    bundle: Path | None = None  # the folder it was loaded from: worker processes load it too
    # threads of one model or TreeSHAP call on many rows; None: every core. A worker process
    # sharing the cores with others takes its share: more threads than cores only wait
    threads: int | None = None

    @classmethod
    def load(
        cls, bundle: str | Path, *, model_version: str = "dev", compiled: bool = True
    ) -> Scorer:
        """The scorer of a bundle folder (``data/model``, or the one inside an artifact).

        ``compiled`` False: the Booster predicts, and the compiled model (LLVM's code, tens of
        megabytes) is not loaded, for a process that never predicts (the parent of a run whose
        worker processes score).
        """
        bundle = Path(bundle)
        features = read_json(bundle / FEATURES_FILE)
        calibration = read_json(bundle / CALIBRATION_FILE)
        schema = SchemaConfig.model_validate(features["schema"])
        booster = read_booster(bundle / BOOSTER_FILE)
        drift = bundle / DRIFT_FILE
        return cls(
            featurize_cfg=FeaturizeConfig.model_validate(features["featurize"]),
            schema=schema,
            encoder=CategoryEncoder.from_dict(read_json(bundle / ENCODER_FILE)),
            booster=booster,
            fit_rules=load_fit_rules(bundle / FIT_RULES_FILE, tuple(schema.declared())),
            blend=Blend(**calibration["blend"]),
            calibrator=Calibrator(**calibration["calibrator"]),
            thresholds=calibration["thresholds"],
            model_version=model_version,
            drift_reference=read_json(drift) if drift.exists() else None,
            predictor=load_predictor(bundle, booster, bundle / BOOSTER_FILE)
            if booster is not None and compiled
            else None,
            bundle=bundle,
        )

    @cached_property
    def signals(self) -> Signals:
        """The grouping of this model's features that reasons use."""
        return Signals.of(list(self.encoder.feature_names_in_), self.schema)

    @cached_property
    def tree_shares(self) -> tuple[lgb.Booster, ...]:
        """The booster's trees in two boosters (:func:`~leadscore.modeling.booster.split_trees`)
        whose TreeSHAP values add up to the whole's: a few rows are explained by two threads at
        once (``()`` without a model)."""
        if self.booster is None:
            return ()
        return split_trees(self.booster, first_share=BACKGROUND_SHARE)

    @overload
    def featurize(
        self, leads: pd.DataFrame, events: pd.DataFrame | None, as_of: Moments
    ) -> pd.DataFrame: ...

    @overload
    def featurize(
        self, leads: dict[str, np.ndarray], events: Columns | None, as_of: Moments
    ) -> dict[str, np.ndarray]: ...

    def featurize(self, leads: Columns, events: Columns | None, as_of: Moments) -> Columns:
        """Features of validated, canonical leads as of a moment (one, or one per lead), built by
        the same function that built the training snapshots.

        A DataFrame of leads gives a DataFrame (keys first); numpy columns by name (an online
        request, where a pandas frame would cost milliseconds) give numpy columns, ``as_of``
        then being naive UTC ``datetime64`` moments.
        """
        if not isinstance(leads, pd.DataFrame):
            snapshots = {"lead_id": column(leads, "lead_id"), "as_of": as_of}
            return feature_columns(snapshots, leads, events, self.featurize_cfg, self.schema)
        moments = pd.to_datetime(as_of.array if isinstance(as_of, pd.Series) else as_of, utc=True)
        snapshots = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(), "as_of": moments})
        return build_features(snapshots, leads, events, self.featurize_cfg, self.schema)

    def score(
        self, features: Columns, *, explain_bands: tuple[str, ...] | None = None
    ) -> dict[str, np.ndarray]:
        """Probability, score, blend parts, band, reasons and fired fit rules of feature columns
        (a DataFrame or numpy arrays by name), one entry per row.

        Reasons need exact TreeSHAP, which costs far more than the score itself; with
        ``explain_bands`` only leads in those bands get reasons (the others get ""), which is
        what a nightly run needs: sales reads the reasons of the leads it will call. When every
        row is explained and the rows are few (an online call), TreeSHAP of most trees starts at
        once on a background thread: it runs in LightGBM's C code without the GIL, on the other
        core, while this thread computes the fit score, the blend and the bands, and then
        TreeSHAP of the other trees (:attr:`tree_shares`); the reasons read the sum.
        """
        booster = self.booster
        early: Future[np.ndarray] | None = None
        if booster is None:  # cold start: the fit score alone
            model_p = np.full(n_rows(features), np.nan)
        else:
            encoded = self.encoder.matrix(features)
            if explain_bands is None and 0 < len(encoded) < ONE_THREAD_BELOW:
                first = self.tree_shares[0]
                early = background().submit(shap_values, first, encoded, threads=1)
            predictor = self.predictor or BoosterPredictor(booster)
            model_p = predictor.predict(encoded, threads=self.threads)
        fit = apply_fit_rules(features, self.fit_rules)
        probability = self.calibrator.predict(self.blend.logit(model_p, fit["fit_score"]))
        band = assign_band(probability, self.thresholds)
        wanted = np.ones(len(band), bool) if explain_bands is None else np.isin(band, explain_bands)
        reasons = np.full(len(band), "", dtype=object)
        if booster is None:
            reasons[wanted] = fit["fit_rules"][wanted]
        elif early is not None:
            late = [shap_values(part, encoded, threads=1) for part in self.tree_shares[1:]]
            shap = np.sum([early.result(), *late], axis=0)
            reasons[:] = explain(shap, self.encoder.decoded(encoded), self.signals)
        elif wanted.any():
            reasons[wanted] = self._explain(booster, encoded[wanted])
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

    def _explain(self, booster: lgb.Booster, encoded: np.ndarray) -> list[str]:
        """Each row's reasons: the signals that moved its model score most (TreeSHAP)."""
        # OpenMP threads for a few rows only add wake-ups, and wait for a busy core
        threads = 1 if len(encoded) < ONE_THREAD_BELOW else self.threads
        shap = shap_values(booster, encoded, threads=threads)
        return explain(shap, self.encoder.decoded(encoded), self.signals)

    def scores_table(
        self, features: pd.DataFrame, *, explain_bands: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """The scores table of the design (:data:`SCORE_COLUMNS`) for featurized rows."""
        scores = self.score(features, explain_bands=explain_bands)
        text = {k: pd.array(v, dtype="str") if v.dtype == object else v for k, v in scores.items()}
        return pd.DataFrame(
            {
                "lead_id": features["lead_id"].to_numpy(),
                "as_of": features["as_of"].array,
                **text,
                "model_version": self.model_version,
                "scored_at": pd.Timestamp.now(tz="UTC"),
            },
            columns=list(SCORE_COLUMNS),
        )
