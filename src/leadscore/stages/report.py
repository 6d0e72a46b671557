"""report: the self-contained HTML model report for marketers, logged to the MLflow run."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import mlflow
import pandas as pd

from leadscore.features import describe_feature
from leadscore.io import read_json, read_table
from leadscore.reports import render_model_report
from leadscore.scorer import MODEL_FILE
from leadscore.tracking import resume_run
from leadscore.training import gain_importance


def run(
    top_features: int,
    metrics_path: Path,
    scores_path: Path,
    plots_dir: Path,
    bundle_dir: Path,
    run_file: Path,
    out_path: Path,
) -> dict:
    importance = gain_importance(lgb.Booster(model_file=str(bundle_dir / MODEL_FILE)))
    importance = importance.head(top_features)
    importance["description"] = importance["feature"].map(lambda f: describe_feature(f).description)
    importance["family"] = importance["feature"].map(lambda f: describe_feature(f).family)
    html = render_model_report(
        read_json(metrics_path),
        read_table(scores_path),
        importance,
        pd.read_csv(plots_dir / "calibration.csv"),
        pd.read_csv(plots_dir / "gain.csv"),
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html)
    with resume_run(run_file):
        mlflow.log_artifact(str(out_path))
    return {"report": str(out_path), "bytes": len(html)}
