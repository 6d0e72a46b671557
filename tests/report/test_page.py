"""The report stage's real outputs from the shared pipeline run: the page in headless Chromium,
its numbers against metrics.json, and no contact details anywhere."""

import json
import re
import shutil
from html import unescape
from pathlib import Path

import matplotlib.image
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from playwright.sync_api import sync_playwright

from leadscore.features import FAMILIES
from leadscore.report.importance import FIT
from leadscore.report.page import lookup
from support import REPO, run

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"  # Debian's package, installed by .ci/run; a missing one fails
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOT = REPO / "test-artifacts" / "model_report.png"  # gitignored; CI keeps it
COMPANIONS = ("feature_importance.csv", "thresholds.csv", "calibration.csv")
# Headline figures the page must show, each tagged with its path in metrics.json.
REQUIRED = {
    "roc_auc", "log_loss", "brier", "ece", "rate_test", "fit_only.roc_auc",
    "logistic_regression.roc_auc", "base_rate.log_loss", "model_only.roc_auc",
    "blend_before_calibration.brier", "blend_before_calibration.ece",
}  # fmt: skip


def test_page_renders_offline_in_headless_chromium(project, tmp_path):
    root, _ = project
    page_path = root / "reports/model_report.html"
    requests, errors = [], []
    SCREENSHOT.parent.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "profile", executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1366, "height": 768},
        )  # fmt: skip
        browser.on("request", lambda request: requests.append(request.url))
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(page_path.as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])"
        )
        text = page.evaluate("document.body.innerText")
        page.screenshot(path=SCREENSHOT, full_page=True)
        pdf = page.pdf(format="A4")
        browser.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert len(images) == page_path.read_text().count("<img") >= 10
    assert [alt for alt, loaded in images if not loaded] == []
    assert "Which signals drive conversion" in text and len(text) > 3000
    pixels = matplotlib.image.imread(SCREENSHOT)[..., :3]
    assert pixels.shape[0] > 3000  # the full page, not the first screen
    assert (pixels.min(axis=2) < 0.9).mean() > 0.03  # ink on the page, not a blank canvas
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 3  # it prints


def test_page_figures_are_the_metrics_json_values(project):
    root, _ = project
    metrics = json.loads((root / "reports/metrics.json").read_text())
    html = (root / "reports/model_report.html").read_text()
    shown = re.findall(
        r'data-metric="([^"]+)" data-value="([^"]+)" data-scale="([^"]+)">([^<]+)<', html
    )
    assert {path for path, *_ in shown} >= REQUIRED
    for path, value, scale, text in shown:
        assert float(value) == lookup(metrics, path), path
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert abs(float(text) - float(value) * float(scale)) <= 0.5 * 10**-decimals + 1e-9, path
    calibration = pd.read_csv(root / "reports/calibration.csv")
    after = calibration[calibration["curve"] == "after"]
    before = calibration[calibration["curve"] == "before"]
    assert after["brier"].unique().tolist() == [metrics["brier"]]
    assert after["ece"].unique().tolist() == [metrics["ece"]]
    assert before["ece"].unique().tolist() == [metrics["blend_before_calibration"]["ece"]]
    assert after["count"].sum() == before["count"].sum() == metrics["n"]


def test_thresholds_csv_agrees_with_the_evaluation_and_the_chosen_cut_offs(project):
    root, _ = project
    bands = pd.read_csv(root / "reports/thresholds.csv").set_index("band")
    chosen = json.loads((root / "data/model/calibration.json").read_text())["thresholds"]
    grid = pd.read_csv(root / "reports/plots/thresholds.csv")
    metrics = json.loads((root / "reports/metrics.json").read_text())
    assert bands["leads"].sum() == metrics["n"]
    assert bands["actual_conversions"].sum() == metrics["positives"]
    assert bands["share_of_leads"].sum() == pytest.approx(1.0)
    assert bands.loc["sales_ready", "lower_threshold"] == chosen["sales_ready"]
    at_cut = grid[grid["chosen_for"] == "sales_ready"].iloc[0]
    assert bands.loc["sales_ready", "share_of_leads"] == pytest.approx(at_cut["share_flagged"])
    if bands.loc["sales_ready", "leads"]:
        assert bands.loc["sales_ready", "precision"] == pytest.approx(at_cut["precision"])
        assert bands.loc["sales_ready", "lift"] == pytest.approx(at_cut["lift"])


def test_feature_importance_csv_covers_families_signals_and_features(project):
    root, _ = project
    table = pd.read_csv(root / "reports/feature_importance.csv")
    assert set(table["level"]) == {"family", "signal", "feature"}
    for _, rows in table.groupby("level"):
        assert rows["share"].sum() == pytest.approx(1.0)
    families = table[table["level"] == "family"]
    assert set(families["name"]) <= {*FAMILIES, FIT} and len(families) >= 6
    signals = table[table["level"] == "signal"]
    shuffled = signals["permutation_auc_drop"].notna()
    assert shuffled.sum() == min(15, len(signals))  # report.top_features, the strongest first
    assert shuffled.iloc[: shuffled.sum()].all()
    assert signals["permutation_auc_drop"].iloc[:3].max() > 0.005  # the top signals matter
    assert table["description"].notna().all()


def _personal_values(root) -> dict[str, list[str]]:
    """E-mails, names and phone numbers of the input. A phone of fewer than seven digits (the
    demo's junk "12345") is no phone number and would match ordinary figures."""
    leads = pd.read_parquet(root / "data/raw/leads.parquet")
    values = {c: leads[c].dropna().astype(str).unique().tolist() for c in
              ("email", "first_name", "last_name", "phone")}  # fmt: skip
    values["phone"] = [v for v in values["phone"] if len(re.sub(r"\D", "", v)) >= 7]
    return values


def test_no_email_name_or_phone_of_the_input_reaches_the_report(project):
    root, _ = project
    values = _personal_values(root)
    assert min(len(v) for v in values.values()) > 10  # the check has something to find
    html = (root / "reports/model_report.html").read_text()
    texts = {"model_report.html": re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)}
    texts |= {name: (root / "reports" / name).read_text() for name in COMPANIONS}
    for column, found in values.items():
        pattern = re.compile(
            r"(?<![\w@+.])(?:" + "|".join(map(re.escape, found)) + r")(?![\w@])"
        )  # not inside a longer word, address or number
        for name, text in texts.items():
            hits = pattern.findall(text)
            assert hits == [], f"{column} values {hits[:3]} in {name}"


def test_the_stage_logged_the_report_and_companions_to_the_mlflow_run(project):
    root, env = project
    client = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    run_id = json.loads((root / "data/model/run.json").read_text())["run_id"]
    logged = {a.path for a in client.list_artifacts(run_id, "report")}
    assert logged == {f"report/{n}" for n in ("model_report.html", *COMPANIONS)}


RULES = """\
base: 10
grades: {A: 70, B: 35, C: 20}  # at most 10 + 30 points: no lead can reach A
rules:
  - name: senior title
    field: job_seniority
    points: {c_level: 30, vp: 20, director: 12}
"""


@pytest.fixture(scope="module")
def reshaped(project, tmp_path_factory) -> tuple[Path, str]:
    """A copy of the pipeline run again with the marketers' own fit-rule file at another path,
    whose grade A no lead reaches, and a fixed cut-off no lead reaches: its page as text."""
    shared, env = project
    root = tmp_path_factory.mktemp("reshaped") / "project"
    shutil.copytree(shared, root)
    (root / "rules").mkdir()
    (root / "rules/sales_fit.yaml").write_text(RULES)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["calibrate"]["fit_rules"] = "rules/sales_fit.yaml"
    params["calibrate"]["thresholds"] |= {
        "policy": "fixed",
        "fixed": {"sales_ready": 0.999, "marketing_qualified": 0.05},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    run(["dvc", "repro"], root, env)
    return root, _text(root / "reports/model_report.html")


def _text(page: Path) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    html = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page.read_text(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(html))


def test_an_empty_grade_and_an_empty_band_render_as_no_leads(reshaped):
    root, text = reshaped
    grades = pd.read_parquet(root / "data/processed/test_scores.parquet")["fit_grade"]
    assert "A" not in set(grades) and {"B", "C", "D"} <= set(grades)
    bands = pd.read_csv(root / "reports/thresholds.csv").set_index("band")
    assert bands.loc["sales_ready", "leads"] == 0 and np.isnan(
        bands.loc["sales_ready", "precision"]
    )
    assert "grade leads share conversion rate A no leads 0.0 % — B " in text
    assert "sales ready (no leads) 0.999 0.0 % — 0.0 % — 0.0 0 " in text
    assert "A — no leads — no leads" in text  # the grade × model score row of grade A
    assert not re.search(r"\bnan\b|\bNaN\b|\bNaT\b|undefined", text)


def test_the_page_names_the_fit_rule_file_used_and_the_policy_s_own_inputs(reshaped):
    _, text = reshaped
    assert "rules marketers edit in rules/sales_fit.yaml" in text
    assert "config/fit_rules.yaml" not in text
    start = text.index("What chose the cut-offs")
    cut_offs = text[start : text.index("Fit rules", start)]
    assert "policy for sales ready fixed" in cut_offs
    assert "cut-off for sales ready / marketing qualified (as set) 0.999 / 0.050" in cut_offs
    for other in ("capacity", "leads per day", "value of a conversion", "cost of a"):
        assert other not in cut_offs
