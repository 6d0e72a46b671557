"""report: the self-contained HTML model report and its CSV companions, logged to the MLflow run.

Runs after ``export`` so that the page names the exported model exactly (version, data
fingerprint, run id) as its metadata records them.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from leadscore.artifact import METADATA_FILE
from leadscore.config import ReportConfig, ThresholdConfig
from leadscore.importance import measure_importance
from leadscore.io import read_json, read_table, write_table
from leadscore.reports import (
    ReportData,
    band_table,
    calibration_table,
    example_leads,
    grade_score_matrix,
    grade_table,
    render_model_report,
    signal_breakdowns,
    split_windows,
)
from leadscore.scorer import Scorer
from leadscore.tracking import resume_run

HTML, IMPORTANCE, THRESHOLDS, CALIBRATION = (
    "model_report.html", "feature_importance.csv", "thresholds.csv", "calibration.csv",
)  # fmt: skip
BREAKDOWNS = 6  # signals with a chart of conversion by value
EXAMPLES_PER_BAND = 2
SEED = 0


def run(
    cfg: ReportConfig,
    policy: ThresholdConfig,
    metrics_path: Path,
    scores_path: Path,
    features_path: Path,
    plots_dir: Path,
    bundle_dir: Path,
    run_file: Path,
    out_dir: Path,
    audit_path: Path,
) -> dict:
    metrics, scorer = read_json(metrics_path), Scorer.load(bundle_dir)
    features = read_table(features_path)
    test = features[features["split"] == "test"].reset_index(drop=True)
    scores = read_table(scores_path)
    importance, contrib = measure_importance(scorer, test, cfg.top_features, seed=SEED)
    calibration = calibration_table(
        pd.read_csv(plots_dir / "calibration_before.csv"),
        pd.read_csv(plots_dir / "calibration.csv"),
        metrics,
    )
    bands = band_table(scores, scorer.thresholds)
    data = ReportData(
        metrics=metrics,
        metadata=read_json(bundle_dir / METADATA_FILE),
        policy=policy.model_dump()
        | scorer.thresholds
        | {"calibration_method": scorer.calibrator.method, "fit_weight": scorer.blend.fit_weight},
        windows=split_windows(features),
        importance=importance,
        breakdowns=signal_breakdowns(importance, test, contrib, BREAKDOWNS),
        calibration=calibration,
        gain=pd.read_csv(plots_dir / "gain.csv"),
        bands=bands,
        thresholds=pd.read_csv(plots_dir / "thresholds.csv"),
        grades=grade_table(scores),
        matrix=grade_score_matrix(scores),
        examples=example_leads(scorer, test, scores, EXAMPLES_PER_BAND, SEED),
        top_features=cfg.top_features,
        audit=read_json(audit_path),
    )
    html = render_model_report(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / HTML).write_text(html)
    for table, name in ((importance, IMPORTANCE), (bands, THRESHOLDS), (calibration, CALIBRATION)):
        write_table(table, out_dir / name)
    with resume_run(run_file):
        for name in (HTML, IMPORTANCE, THRESHOLDS, CALIBRATION):
            mlflow.log_artifact(str(out_dir / name), "report")
    return {"report": str(out_dir / HTML), "bytes": len(html)}
