"""calibrate: blend the model with the fit score, calibrate, and choose the band thresholds.

The validation window is split by lead time: its earlier half fits the blend, its later half the
calibrator, so neither step is judged on the rows it was fitted on.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss

from leadscore.calibration import MODEL_ONLY, choose_method, fit_blend, fit_calibrator
from leadscore.config import CalibrateConfig, SchemaConfig, ThresholdConfig
from leadscore.errors import ConfigError, InputError
from leadscore.fit_score import load_fit_rules, score_fit
from leadscore.io import read_json, read_table, write_json
from leadscore.scorer import (
    CALIBRATION_FILE,
    FEATURES_FILE,
    FIT_RULES_FILE,
)
from leadscore.thresholds import choose_thresholds
from leadscore.tracking import flatten, resume_run


def run(
    cfg: CalibrateConfig,
    features_path: Path,
    bundle_dir: Path,
    run_file: Path,
    valid_predictions: Path,
) -> dict:
    features = read_table(features_path)
    valid = features[features["split"] == "valid"].sort_values("arrival", kind="stable")
    schema = SchemaConfig.model_validate(read_json(bundle_dir / FEATURES_FILE)["schema"])
    rules = load_fit_rules(cfg.fit_rules, tuple(schema.declared()))
    shutil.copyfile(cfg.fit_rules, bundle_dir / FIT_RULES_FILE)
    model_p = _model_probability(valid, read_table(valid_predictions))
    fit = score_fit(valid, rules)["fit_score"].to_numpy()
    y = valid["label"].to_numpy()
    later = valid["arrival"] >= valid["arrival"].median()
    blend = fit_blend(model_p[~later], fit[~later], y[~later], cfg.blend_weight)
    z = blend.logit(model_p, fit)
    losses = choose_method(z[later], y[later])
    # The model's own probabilities compete too: post-processing that does not lower the
    # validation log loss is not applied (the fit score is still reported, with its grade).
    losses["model_only"] = float(log_loss(y[later], model_p[later], labels=[0, 1]))
    method = min(losses, key=losses.get) if cfg.method == "auto" else cfg.method
    if method == "model_only":
        blend, method = MODEL_ONLY, "none"
        z = blend.logit(model_p, fit)
    calibrator = fit_calibrator(z[later], y[later], method)
    first = valid["age_days"] == valid["age_days"].min()  # the moment a new lead arrives
    leads_per_day = _leads_per_day(valid["created_at"], first.sum(), cfg.thresholds)
    thresholds = choose_thresholds(
        calibrator.predict(z[first]), leads_per_day, cfg.thresholds, y[first.to_numpy()]
    )
    calibration = {
        "blend": asdict(blend),
        "calibrator": calibrator.to_dict(),
        "thresholds": thresholds,
        "method_log_loss": losses,
    }
    write_json(calibration, bundle_dir / CALIBRATION_FILE)
    with resume_run(run_file):
        # Tags, not params: calibrate may rerun in the same run with new settings, and MLflow
        # params cannot change once logged.
        mlflow.set_tags(flatten("calibrate", cfg.model_dump()) | {"calibrate.chosen": method})
        mlflow.log_metrics({f"calibrate.{k}_log_loss": v for k, v in losses.items()})
        mlflow.log_metrics({f"blend.{k}": v for k, v in asdict(blend).items()})
        mlflow.log_metrics(
            {f"threshold.{k}": v for k, v in thresholds.items() if not isinstance(v, str)}
        )
    return {"method": method, "blend": asdict(blend), "thresholds": thresholds}


def _model_probability(valid: pd.DataFrame, predictions: pd.DataFrame) -> np.ndarray:
    """The train stage's out-of-sample probabilities, in the order of ``valid``."""
    keys = ["lead_id", "as_of"]
    matched = valid[keys].merge(predictions, on=keys, how="left", validate="one_to_one")
    if len(predictions) != len(valid) or matched["model_probability"].isna().any():
        raise InputError(
            "the validation predictions do not match the features' validation window: "
            "rerun `leadscore train` on these features"
        )
    return matched["model_probability"].to_numpy()


def _leads_per_day(created_at: pd.Series, leads: int, policy: ThresholdConfig) -> float:
    """Daily lead volume of the window; without timestamps it is unknown (NaN), which only the
    capacity policy needs."""
    span = created_at.max() - created_at.min()
    if pd.isna(span) and policy.policy == "capacity":
        raise ConfigError(
            "calibrate.thresholds.policy: 'capacity' needs created_at to count leads per day; "
            "this table has none, use 'precision', 'expected_value' or 'fixed'"
        )
    return leads / max(span.total_seconds() / 86400, 1.0) if pd.notna(span) else np.nan
