"""evaluate: held-out metrics on the latest leads, next to baselines and the best achievable."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from leadscore.config import EvaluateConfig
from leadscore.evaluation import cumulative_gain, held_out_metrics
from leadscore.io import read_table, write_json, write_table
from leadscore.metrics import reliability_table
from leadscore.scorer import TOP_BAND, Scorer
from leadscore.tracking import flatten, resume_run


def run(
    cfg: EvaluateConfig,
    features_path: Path,
    bundle_dir: Path,
    run_file: Path,
    truth_path: Path | None,
    metrics_path: Path,
    plots_dir: Path,
    scores_path: Path,
) -> dict:
    features = read_table(features_path)
    test = features[features["split"] == "test"].reset_index(drop=True)
    base_rate = float(features.loc[features["split"] == "train", "label"].mean())
    scores = (
        Scorer.load(bundle_dir)
        .score_features(test, explain_bands=TOP_BAND)
        .assign(label=test["label"].to_numpy(), age_days=test["age_days"])
    )
    truth = read_table(truth_path) if truth_path is not None else None
    metrics = held_out_metrics(scores, base_rate, truth, cfg.ece_bins)
    write_json(metrics, metrics_path)
    y, p = scores["label"].to_numpy(), scores["probability"].to_numpy()
    write_table(reliability_table(y, p, cfg.ece_bins), plots_dir / "calibration.csv")
    write_table(cumulative_gain(y, p), plots_dir / "gain.csv")
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
    return {k: v for k, v in metrics.items() if not isinstance(v, dict)}
