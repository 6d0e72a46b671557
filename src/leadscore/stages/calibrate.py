"""calibrate: blend the model with the fit score, calibrate, and choose the band thresholds."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import mlflow

from leadscore.config import CalibrateConfig, SchemaConfig
from leadscore.data.files import read_json, read_table, write_json
from leadscore.modeling.calibration import calibrate_window, validation_probabilities
from leadscore.modeling.cold_start import has_model
from leadscore.modeling.fit_score import apply_fit_rules, load_fit_rules
from leadscore.scoring.bundle import (
    BOOSTER_FILE,
    CALIBRATION_FILE,
    FEATURES_FILE,
    FIT_RULES_FILE,
)
from leadscore.tracking import flatten, resume_run


def run(
    cfg: CalibrateConfig,
    *,
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
    trained = has_model(bundle_dir / BOOSTER_FILE)  # none: the cold start, the fit score alone
    model_p = validation_probabilities(valid, read_table(valid_predictions)) if trained else None
    fit_score = apply_fit_rules(valid, rules)["fit_score"]
    result = calibrate_window(valid, model_p, fit_score, cfg=cfg)
    write_json(result.to_dict(), bundle_dir / CALIBRATION_FILE)
    with resume_run(run_file):
        # Tags, not params: calibrate may rerun in the same run with new settings, and MLflow
        # params cannot change once logged.
        mlflow.set_tags(
            flatten("calibrate", cfg.model_dump()) | {"calibrate.chosen": result.method}
        )
        mlflow.log_metrics({f"calibrate.{k}_log_loss": v for k, v in result.losses.items()})
        mlflow.log_metrics({f"blend.{k}": v for k, v in asdict(result.blend).items()})
        numbers = {k: v for k, v in result.thresholds.items() if not isinstance(v, str)}
        mlflow.log_metrics({f"threshold.{k}": v for k, v in numbers.items()})
    return {"method": result.method, "blend": asdict(result.blend), "thresholds": result.thresholds}
