"""train: the LightGBM conversion model on the training window, tracked in a new MLflow run
(none, and a note saying why, when the window has too few conversions: the cold start)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from leadscore.config import TrainConfig
from leadscore.data.files import write_json, write_table
from leadscore.modeling.sampling import read_training_table
from leadscore.modeling.training import train_conversion_model
from leadscore.scoring.bundle import BOOSTER_FILE, ENCODER_FILE
from leadscore.tracking import flatten, new_run


def run(
    cfg: TrainConfig,
    *,
    features_path: Path,
    bundle_dir: Path,
    run_file: Path,
    valid_predictions: Path,
) -> dict:
    """Train, and write the validation window's out-of-sample model probabilities to
    ``valid_predictions`` for calibrate (with ``refit`` the shipped booster saw that window)."""
    features, train_rows = read_training_table(
        features_path, fraction=cfg.non_converter_fraction, seed=cfg.seed
    )
    result = train_conversion_model(features, cfg=cfg, train_rows=train_rows)
    bundle_dir.mkdir(parents=True, exist_ok=True)
    if result.booster is None:  # cold start: a note in the model's place says why
        (bundle_dir / BOOSTER_FILE).write_text(result.no_model_note)
    else:
        result.booster.save_model(str(bundle_dir / BOOSTER_FILE), num_iteration=result.rounds)
    write_json(result.encoder.to_dict(), bundle_dir / ENCODER_FILE)
    write_table(result.valid_predictions, valid_predictions)
    with new_run(run_file, run_name=f"train {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M}"):
        mlflow.log_params(flatten("train", result.cfg.model_dump()))
        mlflow.set_tag("train.tuned", ", ".join(sorted(result.tuned)) or "no")
        mlflow.set_tags(flatten("train.sampling", result.sampling))
        mlflow.log_metrics({k: float(v) for k, v in result.summary.items()})
        model = result.no_model_note if result.booster is None else result.booster.model_to_string()
        mlflow.log_text(model, "lightgbm/model.txt")
    return result.summary
