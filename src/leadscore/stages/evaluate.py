"""evaluate: held-out metrics on the latest leads, next to baselines and the best achievable.

The test window is touched here only. Everything a user compares across experiments is written as
DVC metrics (``reports/metrics.json``) and plots (reliability before and after calibration, ROC,
precision-recall, lift, cumulative gain, thresholds) and logged to the pipeline's MLflow run.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from scipy.special import expit

from leadscore.baselines import as_model_input, fit_logistic_baseline
from leadscore.config import EvaluateConfig, ThresholdConfig, TrainConfig
from leadscore.evaluation import (
    cumulative_gain,
    excluded_columns_comparison,
    held_out_metrics,
)
from leadscore.fit_score import score_fit
from leadscore.io import read_json, read_table, write_json, write_table
from leadscore.metrics import classification_metrics, curves, reliability_table
from leadscore.sampling import describe, keep_mask
from leadscore.scorer import CALIBRATION_FILE, TOP_BAND, Scorer
from leadscore.thresholds import threshold_table
from leadscore.tracking import flatten, resume_run
from leadscore.training import feature_columns


def run(
    cfg: EvaluateConfig,
    train_cfg: TrainConfig,
    policy: ThresholdConfig,
    features_path: Path,
    bundle_dir: Path,
    run_file: Path,
    truth_path: Path | None,
    metrics_path: Path,
    plots_dir: Path,
    scores_path: Path,
    excluded_path: Path,
) -> dict:
    features = read_table(features_path)
    train = features[features["split"] == "train"]
    test = features[features["split"] == "test"].reset_index(drop=True)
    base_rate = float(train["label"].mean())
    scorer = Scorer.load(bundle_dir)
    scores = scorer.score_features(test, explain_bands=TOP_BAND).assign(
        label=test["label"].to_numpy(), age_days=test["age_days"]
    )
    truth = read_table(truth_path) if truth_path is not None else None
    metrics = held_out_metrics(scores, base_rate, truth, cfg.ece_bins)
    y, p = scores["label"].to_numpy(), scores["probability"].to_numpy()
    columns = feature_columns(features)
    logistic = fit_logistic_baseline(
        train, columns, train["label"].to_numpy(), train_cfg.rare_min_count, train_cfg.seed
    )
    p_logistic = logistic.predict_proba(as_model_input(test[columns]))[:, 1]
    metrics["logistic_regression"] = classification_metrics(y, p_logistic, cfg.ece_bins)
    fit = score_fit(test, scorer.fit_rules)["fit_score"].to_numpy()
    before = expit(scorer.blend.logit(scores["model_probability"].to_numpy(), fit))
    metrics["blend_before_calibration"] = classification_metrics(y, before, cfg.ece_bins)
    metrics["beats_baselines"] = bool(
        metrics["roc_auc"] > max(metrics["logistic_regression"]["roc_auc"],
                                 metrics["fit_only"]["roc_auc"])
        and metrics["log_loss"] < min(metrics["logistic_regression"]["log_loss"],
                                      metrics["base_rate"]["log_loss"])
    )  # fmt: skip
    fraction = train_cfg.non_converter_fraction
    kept = keep_mask(train["lead_id"], train["label"].to_numpy(), fraction, train_cfg.seed)
    sample = describe(len(train), int(kept.sum()), fraction, train_cfg.seed)
    metrics["training_sample"] = sample | {"refit": train_cfg.refit}
    comparison = excluded_columns_comparison(
        features, read_table(excluded_path), train_cfg, cfg.ece_bins
    )
    if comparison is not None:
        metrics["excluded_columns_comparison"] = comparison
    write_json(metrics, metrics_path)
    thresholds = read_json(bundle_dir / CALIBRATION_FILE)["thresholds"]
    plots = {
        "calibration": reliability_table(y, p, cfg.ece_bins),
        "calibration_before": reliability_table(y, before, cfg.ece_bins),
        "calibration_equal_mass": reliability_table(y, p, cfg.ece_bins, "mass"),
        "gain": cumulative_gain(y, p),
        **curves(y, p),
        "thresholds": threshold_table(y, p, policy, thresholds),
    }
    for name, table in plots.items():
        write_table(table, plots_dir / f"{name}.csv")
    write_table(scores, scores_path)
    with resume_run(run_file):
        mlflow.log_metrics(
            {
                k: float(v)
                for k, v in flatten("test", metrics).items()
                if isinstance(v, int | float | np.floating) and not pd.isna(v)
            }
        )
        mlflow.log_artifact(str(metrics_path))
        mlflow.log_artifacts(str(plots_dir), "plots")
    return {k: v for k, v in metrics.items() if not isinstance(v, dict)}
