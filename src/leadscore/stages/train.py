"""train: the LightGBM conversion model on the training window, tracked in a new MLflow run."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import mlflow
import pandas as pd

from leadscore.config import TrainConfig
from leadscore.features import CategoryEncoder
from leadscore.io import write_json, write_table
from leadscore.metrics import classification_metrics
from leadscore.sampling import describe, read_training_table, sample_weights
from leadscore.scorer import ENCODER_FILE, MODEL_FILE
from leadscore.tracking import flatten, new_run
from leadscore.training import feature_columns, fit_final
from leadscore.tuning import search_rows, tune

log = logging.getLogger(__name__)


def run(
    cfg: TrainConfig,
    features_path: Path,
    bundle_dir: Path,
    run_file: Path,
    valid_predictions: Path,
) -> dict:
    """Train, and write the validation window's out-of-sample model probabilities to
    ``valid_predictions`` for calibrate (with ``refit`` the shipped model has seen that window)."""
    fraction = cfg.non_converter_fraction
    features, train_rows = read_training_table(features_path, fraction, cfg.seed)
    train, valid = (features[features["split"] == s] for s in ("train", "valid"))
    columns = feature_columns(features)
    encoder = CategoryEncoder(min_count=cfg.rare_min_count).fit(train[columns])
    x_train, y_train = encoder.transform(train[columns]), train["label"].to_numpy()
    x_valid, y_valid = encoder.transform(valid[columns]), valid["label"].to_numpy()
    weight = sample_weights(y_train, fraction) if fraction < 1 else None
    started = time.perf_counter()
    # the search fits and judges on at most cfg.tuning_max_rows rows (all of a mid-sized table)
    keep, judge = search_rows(train["lead_id"], valid["lead_id"], cfg.tuning_max_rows, cfg.seed)
    tuned = {}
    if cfg.tuning_trials:
        sample_weight = None if weight is None else weight[keep]
        tuned = tune(
            x_train[keep], y_train[keep], x_valid[judge], y_valid[judge], cfg, sample_weight
        )
    searched = time.perf_counter()
    cfg = cfg.model_copy(update=tuned)
    final = fit_final(x_train, y_train, x_valid, y_valid, cfg, weight)
    fitted = time.perf_counter()
    log.info("search %.1f s, final fit %.1f s (%d rounds on %d rows)", searched - started,
             fitted - searched, final.rounds, len(train) + len(valid) * cfg.refit)  # fmt: skip
    booster, valid_p = final.booster, final.valid_probability
    bundle_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(bundle_dir / MODEL_FILE), num_iteration=final.rounds)
    write_json(encoder.to_dict(), bundle_dir / ENCODER_FILE)
    write_table(valid[["lead_id", "as_of"]].assign(model_probability=valid_p), valid_predictions)
    valid_metrics = classification_metrics(y_valid, valid_p)
    # on the search's rows: a million-row predict is not worth a diagnostic
    train_metrics = classification_metrics(y_train[keep], booster.predict(x_train[keep]))
    sampling = describe(train_rows, len(train), fraction, cfg.seed)
    summary = {
        "best_iteration": final.best_iteration,
        "rounds": final.rounds,
        "train_rows": len(train),
        "train_rows_before_sampling": train_rows,
        "non_converter_weight": sampling["non_converter_weight"],
        "valid_rows": len(valid),
        "features": len(columns),
        "train_roc_auc": train_metrics["roc_auc"],
        "train_log_loss": train_metrics["log_loss"],
        "valid_roc_auc": valid_metrics["roc_auc"],
        "valid_log_loss": valid_metrics["log_loss"],
        "search_seconds": round(searched - started, 1),
        "fit_seconds": round(fitted - searched, 1),
    }
    with new_run(run_file, run_name=f"train {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M}"):
        mlflow.log_params(flatten("train", cfg.model_dump()))
        mlflow.set_tag("train.tuned", ", ".join(sorted(tuned)) or "no")
        mlflow.set_tags(flatten("train.sampling", sampling))
        mlflow.log_metrics({k: float(v) for k, v in summary.items()})
        mlflow.log_text(booster.model_to_string(), "lightgbm/model.txt")
    return summary
