"""The cold start end to end: a table with too few conversions goes through `dvc repro` to an
artifact without a model (the fit score alone, calibrated), which batch, API and pyfunc score."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
import yaml

from leadscore.scoring.artifact import bundle_path, load_scorer
from support import BIN, REPO, api_serving, json_files, run, strict_json

pytestmark = pytest.mark.slow

AS_OF = "2026-10-01T00:00:00Z"


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> tuple[Path, dict]:
    """The demo pipeline on 1,200 generated leads: fewer than train.min_conversions (120 by
    default, untouched) converted leads in the training window."""
    root = tmp_path_factory.mktemp("cold") / "project"
    root.mkdir()
    for name in ("dvc.yaml", "config", "src"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["generate"]["n_leads"] = 1200
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    run(["dvc", "init", "--no-scm", "-q"], root, env)
    run(["dvc", "repro"], root, env)
    return root, env


def test_no_model_is_trained_and_the_bundle_says_why(cold):
    root, _ = cold
    metrics = json.loads((root / "reports/metrics.json").read_text())
    conversions = metrics["cold_start"]["train_conversions"]
    assert 20 < conversions < metrics["cold_start"]["min_conversions"] == 120
    note = (root / "data/model/model.txt").read_text()
    assert note.startswith("leadscore: no model (cold start)\n")
    assert f"{conversions} converted leads, fewer than train.min_conversions (120)" in note
    features = pd.read_parquet(root / "data/processed/features.parquet")
    train = features[(features["split"] == "train") & (features["label"] == 1)]
    assert train["lead_id"].nunique() == conversions
    assert (
        pd.read_parquet(root / "data/processed/valid_predictions.parquet")["model_probability"]
        .isna()
        .all()
    )
    calibration = json.loads((root / "data/model/calibration.json").read_text())
    assert calibration["blend"] == {"model_weight": 0.0, "fit_weight": 1.0, "intercept": 0.0}
    assert set(calibration["method_log_loss"]) == {"sigmoid", "isotonic"}
    artifact = bundle_path(root / "models/lead_scorer")
    assert [p.name for p in (artifact / "compiled").iterdir()] == ["README.txt"]
    metadata = json.loads((artifact / "metadata.json").read_text())
    assert "cold start" in metadata["compiled"]["skipped"]


def test_evaluation_reports_the_calibrated_fit_score_as_the_product(cold):
    metrics = json.loads((cold[0] / "reports/metrics.json").read_text())
    assert "model_only" not in metrics and "excluded_columns_comparison" not in metrics
    # the product is the fit score, calibrated: the same ranking up to the calibrator's ties
    assert metrics["roc_auc"] == pytest.approx(metrics["fit_only"]["roc_auc"], abs=0.03)
    assert metrics["roc_auc"] > 0.6  # the demo's fit rules carry signal
    assert metrics["log_loss"] < metrics["blend_before_calibration"]["log_loss"]


def test_the_report_says_so_at_the_top(cold):
    root, _ = cold
    html = (root / "reports/model_report.html").read_text()
    top = html[html.index("<body>") : html.index('id="summary"')]
    assert "No model was trained: this score is the fit\nscore alone." in top
    assert "train.min_conversions" in top
    assert "Grade × model score" not in html and "How conversion moves" not in html
    assert "none: too few conversions to train one (the cold start)" in html


def test_batch_api_and_pyfunc_score_with_the_fit_score_alone(cold):
    root, env = cold
    leads = pd.read_parquet(root / "data/raw/leads.parquet").drop_duplicates("lead_id")
    leads = leads.drop(columns=["converted", "converted_at"]).head(40)
    leads.to_parquet(root / "tonight.parquet")
    done = run(
        ["leadscore", "score", "--model", "models/lead_scorer", "--leads", "tonight.parquet",
         "--out", "scores.parquet", "--as-of", AS_OF],
        root, env,
    )  # fmt: skip
    assert strict_json(done.stdout)["scored"] == 40
    batch = pd.read_parquet(root / "scores.parquet").set_index("lead_id")
    assert batch["model_probability"].isna().all()
    assert batch["probability"].between(0, 1).all() and batch["probability"].nunique() > 3
    ready = batch[batch["band"] == "sales_ready"]
    assert len(ready) and (ready["reasons"] == ready["fit_rules"]).all()
    # the probability is the calibrated fit score: a function of the fit score alone
    assert (batch.groupby("fit_score")["probability"].nunique() == 1).all()
    with api_serving(root, env, keys=None) as url:
        body = json.loads(leads.head(1).to_json(orient="records", date_format="iso"))[0]
        answer = requests.post(f"{url}/score", json={"lead": body, "as_of": AS_OF}, timeout=30)
    assert answer.status_code == 200, answer.text
    online = strict_json(answer.text)
    assert online["model_probability"] is None
    assert online["probability"] == pytest.approx(
        batch.loc[body["lead_id"], "probability"], abs=1e-12
    )
    assert online["reasons"] == online["fit_rules"] != ""
    pyfunc = mlflow.pyfunc.load_model(str(root / "models/lead_scorer"))
    via_pyfunc = pyfunc.predict(leads.assign(as_of=AS_OF)).set_index("lead_id")
    assert via_pyfunc["model_probability"].isna().all()
    np.testing.assert_allclose(
        via_pyfunc["probability"], batch.loc[via_pyfunc.index, "probability"], rtol=0, atol=1e-12
    )
    assert load_scorer(root / "models/lead_scorer").booster is None


def test_every_json_file_and_summary_is_strict_json(cold):
    root, env = cold
    files = json_files(root)
    names = {p.name for p in files}
    assert {"metrics.json", "calibration.json", "leakage_audit.json", "metadata.json"} <= names
    for path in files:
        strict_json(path.read_text())
    strict_json(run(["leadscore", "summary"], root, env).stdout)
