"""evaluate: held-out metrics on the latest leads, next to baselines and the best achievable,
as DVC metrics and plots, logged to the pipeline's MLflow run."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from leadscore.config import EvaluateConfig, ThresholdConfig, TrainConfig
from leadscore.data.files import kept_figures, read_table, write_json, write_table
from leadscore.modeling.evaluation import evaluate_held_out
from leadscore.scoring.scorer import Scorer
from leadscore.tracking import flatten, resume_run


def run(
    cfg: EvaluateConfig,
    *,
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
    held_out = evaluate_held_out(
        read_table(features_path),
        read_table(excluded_path),
        Scorer.load(bundle_dir),
        read_table(truth_path) if truth_path is not None else None,
        cfg=cfg,
        train_cfg=train_cfg,
        policy=policy,
    )
    metrics = kept_figures(held_out.metrics)
    write_json(metrics, metrics_path)
    for name, table in held_out.plots.items():
        write_table(kept_figures(table), plots_dir / f"{name}.csv")
    write_table(held_out.scores, scores_path)
    numbers = {
        k: float(v)
        for k, v in flatten("test", metrics).items()
        if isinstance(v, int | float | np.floating) and not pd.isna(v)
    }
    with resume_run(run_file):
        mlflow.log_metrics(numbers)
        mlflow.log_artifact(str(metrics_path))
        mlflow.log_artifacts(str(plots_dir), "plots")
    return {k: v for k, v in metrics.items() if not isinstance(v, dict)}
