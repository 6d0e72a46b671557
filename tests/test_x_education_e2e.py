"""The real X Education lead table through its own pipeline (pipelines/x_education/dvc.yaml),
end to end in a temporary copy of the project, with the tuning search off to keep it short."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import warnings
from html import unescape
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
import yaml
from mlflow.models import validate_serving_input

from leadscore.config import ORDER_COLUMN
from leadscore.data.files import read_table
from leadscore.features import FAMILIES
from support import BIN, REPO, free_port, json_files, run, serving, strict_json

pytestmark = pytest.mark.slow

DATA = REPO.parent / "shared" / "datasets" / "x_education_leads.csv"
AFTER_CONTACT = {
    "Tags", "Lead Quality", "Lead Profile", "Last Activity", "Last Notable Activity",
    "Asymmetrique Activity Index", "Asymmetrique Profile Index",
    "Asymmetrique Activity Score", "Asymmetrique Profile Score",
}  # fmt: skip


@pytest.fixture(scope="module")
def x_education(tmp_path_factory) -> tuple[Path, dict]:
    """`dvc repro` of the X Education pipeline; the data set stays in ../shared, linked."""
    if not DATA.exists():
        raise AssertionError(f"{DATA} is missing: the shared data sets belong beside the project")
    top = tmp_path_factory.mktemp("xed")
    root = top / "repo"
    (top / "shared").mkdir()
    (top / "shared" / "datasets").symlink_to(DATA.parent)
    for name in ("src", "config"):
        shutil.copytree(REPO / name, root / name)
    (root / "pipelines" / "x_education").mkdir(parents=True)
    shutil.copy(REPO / "pipelines/x_education/dvc.yaml", root / "pipelines/x_education/dvc.yaml")
    params_file = root / "config/x_education/params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["train"]["tuning_trials"] = 0
    params_file.write_text(yaml.safe_dump(params))
    pipeline = root / "pipelines/x_education"
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{pipeline / 'mlflow.db'}",
    }
    run(["dvc", "init", "--no-scm", "-q"], root, env)
    run(["dvc", "repro", "pipelines/x_education/dvc.yaml"], root, env)
    return pipeline, env


def test_pipeline_writes_its_own_outputs_and_leaves_the_demo_alone(x_education):
    pipeline, _ = x_education
    for path in (
        "reports/metrics.json",
        "reports/leakage_audit.json",
        "reports/model_report.html",
        "models/lead_scorer/MLmodel",
        "dvc.lock",
    ):
        assert (pipeline / path).exists(), path
    root = pipeline.parents[1]
    assert not any((root / d).exists() for d in ("data", "models", "reports", "dvc.lock"))


def test_audit_flags_tags_and_excludes_the_after_contact_columns(x_education):
    audit = json.loads((x_education[0] / "reports/leakage_audit.json").read_text())
    columns = {c["column"]: c for c in audit["columns"]}
    assert "Tags" in audit["flagged"] and columns["Tags"]["roc_auc"] > 0.88
    assert set(audit["excluded"]) == AFTER_CONTACT
    assert columns["Total Time Spent on Website"]["excluded"] is False
    assert audit["window"]["split"]["method"] == "order_by: Lead Number"
    features = json.loads((x_education[0] / "data/model/features.json").read_text())["schema"]
    used = {*features["categorical"].values(), *features["numeric"].values()}
    assert not used & AFTER_CONTACT


def test_lead_time_model_is_good_and_calibrated_and_the_leak_is_shown_apart(x_education):
    metrics = json.loads((x_education[0] / "reports/metrics.json").read_text())
    assert metrics["roc_auc"] > 0.88
    assert metrics["ece"] < 0.06
    assert metrics["roc_auc"] > metrics["logistic_regression"]["roc_auc"] - 0.01
    assert metrics["log_loss"] < metrics["base_rate"]["log_loss"] - 0.2
    comparison = metrics["excluded_columns_comparison"]
    assert comparison["label"] == "not usable at lead time"
    assert "tags" in comparison["excluded_features"]
    leaky = comparison["with_excluded"]["roc_auc"]
    assert leaky > comparison["lead_time_same_settings"]["roc_auc"] + 0.05


def test_the_shipped_model_is_refitted_and_calibrate_used_out_of_sample_probabilities(x_education):
    pipeline, env = x_education
    metrics = json.loads((pipeline / "reports/metrics.json").read_text())
    assert metrics["training_sample"]["refit"] is True
    features = pd.read_parquet(pipeline / "data/processed/features.parquet")
    valid = features[features["split"] == "valid"]
    held_out = pd.read_parquet(pipeline / "data/processed/valid_predictions.parquet")
    assert len(held_out) == len(valid) and set(held_out["lead_id"]) == set(valid["lead_id"])
    run_id = json.loads((pipeline / "data/model/run.json").read_text())["run_id"]
    logged = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"]).get_run(run_id).data.metrics
    trees = (pipeline / "data/model/model.txt").read_text().count("\nTree=")
    windows = features["split"].value_counts()
    scaled = logged["best_iteration"] * (windows["train"] + windows["valid"]) / windows["train"]
    assert trees == logged["rounds"] == round(scaled)
    html = (pipeline / "reports/model_report.html").read_text()
    assert "fitted once more on the training and validation windows" in html


def test_report_shows_what_was_left_out_and_what_it_would_have_added(x_education):
    pipeline, _ = x_education
    metrics = json.loads((pipeline / "reports/metrics.json").read_text())
    audit = json.loads((pipeline / "reports/leakage_audit.json").read_text())
    html = (pipeline / "reports/model_report.html").read_text()
    columns = html[html.index('id="columns"') : html.index('id="model"')]
    assert "Not usable at lead time" in columns
    shown = dict(re.findall(r'data-metric="([^"]+)" data-value="([^"]+)"', columns))
    for key in ("with_excluded", "lead_time_same_settings"):
        path = f"excluded_columns_comparison.{key}.roc_auc"
        assert float(shown[path]) == metrics["excluded_columns_comparison"][key]["roc_auc"]
    tags = next(c for c in audit["columns"] if c["column"] == "Tags")
    cell = r'<td class="text">(\w+)</td>'
    row = re.search(r'<td class="text">Tags</td>' + cell + r"<td>([\d.]+)</td>", columns)
    assert row and row[1] == "excluded" and row[2] == f"{tags['roc_auc']:.3f}"
    assert all(column in columns for column in AFTER_CONTACT)


def test_importance_places_each_declared_column_in_its_family(x_education):
    importance = pd.read_csv(x_education[0] / "reports/feature_importance.csv")
    family = importance[importance["level"] == "feature"].set_index("name")["family"]
    assert family["time_on_site_seconds"] == "engagement"
    assert family["lead_origin"] == "CRM fields"
    assert family["specialization"] == "form fill"  # a declared form field
    assert set(family) <= {*FAMILIES, "fit"}


def test_batch_scoring_the_table_with_its_artifact_gives_the_evaluation_scores(x_education):
    pipeline, env = x_education
    out = pipeline / "batch_scores.parquet"
    run(
        ["leadscore", "score", "--model", "models/lead_scorer", "--leads", str(DATA),
         "--out", str(out)],
        pipeline, env,
    )  # fmt: skip
    scores = pd.read_parquet(out)
    assert len(scores) == len(pd.read_csv(DATA))
    held_out = pd.read_parquet(pipeline / "data/processed/test_scores.parquet")
    joined = held_out.merge(scores, on="lead_id", suffixes=("", "_batch"))
    assert len(joined) == len(held_out)
    pd.testing.assert_series_equal(
        joined["probability"], joined["probability_batch"], check_names=False
    )
    reasons = " ".join(scores["reasons"])  # declared columns are named as the CRM names them
    assert "Total Time Spent on Website: " in reasons and "Time on site seconds" not in reasons


AS_OF = "2026-10-01T00:00:00Z"


@pytest.fixture(scope="module")
def doors(x_education) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Twenty held-out leads as the CRM exports them (its own column names, cells as text, the
    after-contact and label columns still in), their batch scores, and API bodies holding the
    columns the artifact's input schema lists (what a client reads from GET /model)."""
    pipeline, env = x_education
    held_out = pd.read_parquet(pipeline / "data/processed/test_scores.parquet").head(20)
    raw = read_table(DATA)
    rows = raw[raw["Prospect ID"].isin(held_out["lead_id"])].reset_index(drop=True)
    rows.to_csv(pipeline / "doors.csv", index=False)
    run(["leadscore", "score", "--model", "models/lead_scorer", "--leads", "doors.csv", "--out",
         "doors_scores.parquet", "--as-of", AS_OF], pipeline, env)  # fmt: skip
    batch = pd.read_parquet(pipeline / "doors_scores.parquet")
    schema = json.loads((pipeline / "data/model/input_schema.json").read_text())
    columns = [c["column"] for c in schema["leads"]]
    leads = json.loads(rows[columns].to_json(orient="records"))
    return rows, batch, [{"lead": lead, "as_of": AS_OF} for lead in leads]


def _same(got: pd.DataFrame, batch: pd.DataFrame) -> None:
    want = batch.set_index("lead_id").loc[got["lead_id"]]
    np.testing.assert_allclose(got["probability"], want["probability"], rtol=0, atol=1e-9)
    assert got["band"].tolist() == want["band"].tolist()


def test_pyfunc_artifact_scores_the_crm_s_rows_like_evaluation_and_batch(x_education, doors):
    pipeline, _ = x_education
    rows, batch, _ = doors
    model = mlflow.pyfunc.load_model(str(pipeline / "models/lead_scorer"))
    scores = model.predict(rows.assign(as_of=AS_OF))
    _same(scores, batch)
    held_out = pd.read_parquet(pipeline / "data/processed/test_scores.parquet")
    evaluated = held_out.set_index("lead_id").loc[scores["lead_id"], "probability"]
    # evaluation scored with the Booster (before export compiled it), the artifact with lleaves
    np.testing.assert_allclose(scores["probability"], evaluated, rtol=0, atol=1e-12)


def _page_text(pipeline: Path) -> str:
    html = (pipeline / "reports/model_report.html").read_text()
    return re.sub(
        r"\s+", " ", unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.S))
    )


def test_report_windows_follow_lead_number_and_show_the_policy_s_own_inputs(x_education):
    pipeline, _ = x_education
    text = _page_text(pipeline)
    features = pd.read_parquet(pipeline / "data/processed/features.parquet")
    bounds = features.groupby("split")[ORDER_COLUMN].agg(["min", "max"]).astype(int)
    for split in ("train", "valid", "test"):
        low, high = bounds.loc[split]
        assert f" {split} {low} {high} " in text  # the window's first and last Lead Number
    assert "in arrival order by Lead Number" in text
    assert f"training window {bounds.loc['train', 'min']} – {bounds.loc['train', 'max']}" in text
    assert not re.search(r"\bnan\b|\bNaN\b|\bNaT\b", text)
    assert "rules marketers edit in ../../config/x_education/fit_rules.yaml" in text
    start = text.index("What chose the cut-offs")
    cut_offs = text[start : text.index("Fit rules", start)]
    assert "policy for sales ready expected value" in cut_offs
    assert "cost of a sales call 150 " in cut_offs and "value of a conversion 1,000 " in cut_offs
    assert "capacity" not in cut_offs and "leads per day" not in cut_offs


def test_every_json_file_and_stage_summary_is_strict_json(x_education):
    pipeline, env = x_education
    files = json_files(pipeline)
    assert {"metrics.json", "calibration.json", "leakage_audit.json"} <= {p.name for p in files}
    for path in files:
        strict_json(path.read_text())
    calibration = strict_json((pipeline / "data/model/calibration.json").read_text())
    assert calibration["thresholds"]["leads_per_day"] is None  # no timestamps: unknown, not NaN
    stages = yaml.safe_load((pipeline / "dvc.yaml").read_text())["stages"]
    printed = run(shlex.split(stages["calibrate"]["cmd"]), pipeline, env).stdout  # rerun: same
    assert strict_json(printed)["thresholds"]["leads_per_day"] is None


@pytest.fixture(scope="module")
def x_education_init(x_education, tmp_path_factory) -> Path:
    """The same table set up by `leadscore init` alone (tuning off, as above), in its own
    project: nothing of the hand-written config is used."""
    _, env = x_education
    root = tmp_path_factory.mktemp("xinit")
    run(["dvc", "init", "--no-scm", "-q"], root, env)
    run(["leadscore", "init", "--leads", str(DATA), "--name", "xed"], root, env)
    params_file = root / "config/xed/params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["train"]["tuning_trials"] = 0
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    pipeline = root / "pipelines/xed"
    env = env | {"MLFLOW_TRACKING_URI": f"sqlite:///{pipeline / 'mlflow.db'}"}
    run(["dvc", "repro", "pipelines/xed/dvc.yaml"], root, env)
    return pipeline


def test_init_proposes_the_after_contact_columns_and_the_order(x_education_init):
    params = yaml.safe_load((x_education_init.parents[1] / "config/xed/params.yaml").read_text())
    schema = params["schema"]
    assert set(schema["after_contact"]) == AFTER_CONTACT
    assert schema["leads"]["lead_id"] == "Prospect ID" and schema["order_by"] == "Lead Number"
    assert schema["leads"]["converted"] == "Converted"


def test_init_config_reaches_the_hand_written_figures(x_education, x_education_init):
    hand = json.loads((x_education[0] / "reports/metrics.json").read_text())
    proposed = json.loads((x_education_init / "reports/metrics.json").read_text())
    assert abs(proposed["roc_auc"] - hand["roc_auc"]) < 0.015
    assert proposed["ece"] < 0.06 and proposed["log_loss"] < hand["log_loss"] + 0.03
    assert (x_education_init / "reports/model_report.html").exists()


def test_the_api_serves_the_crm_s_own_column_names_with_the_batch_scores(x_education, doors):
    pipeline, env = x_education
    _, batch, bodies = doors
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["leadscore", "serve", "--model", "models/lead_scorer", "--port", str(port),
            "--insecure-no-auth"]  # fmt: skip
    with serving(argv, pipeline, env, port):
        lead = requests.get(f"{url}/openapi.json", timeout=30).json()["components"]["schemas"]
        fields = lead["Lead"]["properties"]
        online = [requests.post(f"{url}/score", json=b, timeout=30) for b in bodies]
        many = requests.post(f"{url}/score/batch", json={"leads": bodies}, timeout=60)
        wrong = requests.post(f"{url}/score", json={"lead": {"lead_id": "x"}}, timeout=30)
    assert {"Prospect ID", "Total Time Spent on Website", "Lead Origin"} <= set(fields)
    assert "Tags" not in fields and "Converted" not in fields  # after contact, and the label
    assert lead["Lead"]["required"] == ["Prospect ID"]
    assert [r.status_code for r in online] == [200] * len(bodies), online[0].text
    _same(pd.DataFrame([r.json() for r in online]), batch)
    _same(pd.DataFrame(many.json()), batch)
    assert wrong.status_code == 422  # the demo's names are not this model's


def test_mlflow_models_serve_takes_the_example_and_gives_the_batch_scores(x_education, doors):
    pipeline, env = x_education
    rows, batch, _ = doors
    artifact = pipeline / "models/lead_scorer"
    example = (artifact / "serving_input_example.json").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated for mlflow.models.predict
        assert len(validate_serving_input(str(artifact), example)) == 1
    assert "Prospect ID" in json.loads(example)["dataframe_split"]["columns"]
    split = json.loads(rows.assign(as_of=AS_OF).to_json(orient="split", index=False))
    port = free_port()
    argv = ["mlflow", "models", "serve", "-m", "models/lead_scorer", "--env-manager", "local",
            "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    with serving(argv, pipeline, env, port):
        answer = requests.post(f"http://127.0.0.1:{port}/invocations",
                               json={"dataframe_split": split}, timeout=60)  # fmt: skip
    assert answer.status_code == 200, answer.text
    _same(pd.DataFrame(answer.json()["predictions"]), batch)


def test_promotion_works_without_an_event_log(x_education):
    pipeline, env = x_education
    params = ["--params", "../../config/x_education/params.yaml"]
    first = run(["leadscore", "promote", "--no-events", *params], pipeline, env)
    assert json.loads(first.stdout)["promoted"]
    run(["leadscore", "export", "--leads", "data/interim/leads.parquet", *params], pipeline, env)
    missing = run(["leadscore", "promote", *params], pipeline, env, check=False)
    assert missing.returncode == 3 and "--no-events" in missing.stderr  # no log by default
    second = json.loads(run(["leadscore", "promote", "--no-events", *params], pipeline, env).stdout)
    assert second["champion"] == "1" and second["candidate"] == "2"  # compared on held-out
    assert second["candidate_value"] == second["champion_value"]  # the same model, exported again
