"""report: the self-contained HTML model report and its CSV companions, logged to the MLflow run.

Runs after ``export`` so that the page names the exported model exactly (version, data
fingerprint, run id) as its metadata records them.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from leadscore.config import ReportConfig, ThresholdConfig
from leadscore.data.files import read_json, read_table, write_table
from leadscore.report.page import PLOTS, assemble_report, render_model_report
from leadscore.scoring.bundle import METADATA_FILE
from leadscore.scoring.scorer import Scorer
from leadscore.tracking import resume_run

HTML = "model_report.html"


def run(
    cfg: ReportConfig,
    *,
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
    data = assemble_report(
        Scorer.load(bundle_dir),
        read_table(features_path),
        read_table(scores_path),
        metrics=read_json(metrics_path),
        metadata=read_json(bundle_dir / METADATA_FILE),
        plots={name: pd.read_csv(plots_dir / f"{name}.csv") for name in PLOTS},
        audit=read_json(audit_path),
        policy=policy,
        cfg=cfg,
    )
    html = render_model_report(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / HTML).write_text(html)
    for name, table in data.companions().items():
        write_table(table, out_dir / name)
    with resume_run(run_file):
        for name in (HTML, *data.companions()):
            mlflow.log_artifact(str(out_dir / name), "report")
    return {"report": str(out_dir / HTML), "bytes": len(html)}
