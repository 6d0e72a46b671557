"""Six weeks of a demo lead history scored night by night with the pipeline's model, the
conversion process changed from the fourth week on, then `leadscore monitor`: its figures against
an independent computation from the scores and outcomes, the retrain signal in the week the
change starts and in none before, and the page in headless Chromium.

The change is the generator's drift knob (``generate.drift``): from ``CHANGE`` on, every lead's
log-odds of being a buyer gain ``BASE_SHIFT`` (the conversion rate about doubles) and the social
channel brings ``SOCIAL_MIX`` times its share of leads. The outcomes are the generator's own,
drawn with the knob; the history runs a horizon past the last night so that every scored lead's
outcome is known.
"""

from __future__ import annotations

import json
import re
import time

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from playwright.sync_api import sync_playwright
from scipy.stats import rankdata
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.config import DriftConfig, GenerateConfig
from leadscore.data.tables import parse_table_uri
from leadscore.generate import generate_demo
from leadscore.report.page import lookup
from leadscore.scoring.artifact import load_scorer
from leadscore.scoring.batch import score_tables
from leadscore.scoring.options import ScoringOptions
from support import REPO, run

pytestmark = pytest.mark.slow

START = pd.Timestamp("2026-10-05", tz="UTC")  # a Monday: the first night
CHANGE = pd.Timestamp("2026-10-26", tz="UTC")  # the fourth Monday: leads created from here on
END = pd.Timestamp("2026-11-16", tz="UTC")  # six weeks of nights, END not included
HORIZON = pd.Timedelta(days=30)  # featurize.horizon_days of the pipeline's params
N_LEADS, SEED = 18_000, 11  # about 250 leads a night over the nights and a horizon after them
BASE_SHIFT, SOCIAL_MIX = 1.5, 3.0
ECE_BINS = 15  # evaluate.ece_bins
MONITOR = {"window": "week", "min_roc_auc": 0.65, "max_ece": 0.06, "min_leads": 500}
WEEKS = [(START + pd.Timedelta(weeks=k)).date().isoformat() for k in range(6)]
BEFORE, AFTER = WEEKS[:3], WEEKS[3:]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "test-artifacts" / "monitoring.png"  # gitignored; CI keeps it


@pytest.fixture(scope="module")
def history(project, tmp_path_factory) -> dict:
    """The nights scored into one scores table (and its runs table), the outcomes that followed
    as the lead table's own label columns, and a params file with the monitor's thresholds."""
    root, env = project
    folder = tmp_path_factory.mktemp("history")
    drift = DriftConfig(
        start=CHANGE.date(), base_rate_shift=BASE_SHIFT, channel_mix={"social": SOCIAL_MIX}
    )
    demo = generate_demo(
        GenerateConfig(
            n_leads=N_LEADS,
            seed=SEED,
            start=str(START.date()),
            end=str((END + HORIZON).date()),
            drift=drift,
        )
    )
    outcomes = demo.leads.drop_duplicates("lead_id").reset_index(drop=True)  # the first copy
    outcomes.to_parquet(folder / "leads_with_outcomes.parquet")
    leads = outcomes[outcomes["created_at"] < END - pd.Timedelta(days=1)]
    demo.events.to_parquet(folder / "events.parquet")
    artifact = root / "models/lead_scorer"
    scorer = load_scorer(artifact)
    scores = parse_table_uri(folder / "scores.parquet")
    started, nights = time.perf_counter(), pd.date_range(START, END, freq="D", inclusive="left")
    for night in nights:  # each night scores the leads that arrived the day before
        new = leads[
            (leads["created_at"] >= night - pd.Timedelta(days=1)) & (leads["created_at"] < night)
        ]
        new.drop(columns=["converted", "converted_at"]).to_parquet(folder / "tonight.parquet")
        options = ScoringOptions(as_of=night, max_reject_rate=0.2, model=str(artifact))
        score_tables(
            scorer,
            parse_table_uri(folder / "tonight.parquet"),
            parse_table_uri(folder / "events.parquet"),
            scores,
            options=options,
        )
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["featurize"]["horizon_days"] == HORIZON.days
    assert params["evaluate"]["ece_bins"] == ECE_BINS
    (folder / "params.yaml").write_text(yaml.safe_dump(params | {"monitor": MONITOR}))
    print(f"{len(nights)} nights scored in {time.perf_counter() - started:.1f} s")
    return {
        "folder": folder,
        "env": env,
        "outcomes": outcomes,
        "nights": len(nights),
        "leads": leads,
    }


def _monitor(history: dict, now: pd.Timestamp, out: str) -> tuple[int, dict]:
    folder = history["folder"]
    done = run(
        [
            "leadscore",
            "monitor",
            "--scores",
            "scores.parquet",
            "--outcomes",
            "leads_with_outcomes.parquet",
            "--out",
            out,
            "--as-of",
            now.isoformat(),
            "--params",
            "params.yaml",
        ],
        folder,
        history["env"],
        check=False,
    )
    assert done.returncode in (0, 9), done.stderr
    return done.returncode, json.loads((folder / out / "monitoring.json").read_text())


@pytest.fixture(scope="module")
def monitored(history) -> tuple[int, dict, pd.Timestamp]:
    """`leadscore monitor` once every week's horizon has closed."""
    now = END + HORIZON + pd.Timedelta(days=1)
    code, summary = _monitor(history, now, "monitoring")
    names = ("leads", "conversions", "predicted_rate", "observed_rate", "roc_auc", "ece")
    for week, w in summary["windows"].items():  # the figures docs/results.md quotes (pytest -s)
        print(week, *(w[n] for n in names), w["roc_auc_low"], w["roc_auc_high"], w["flagged"])
    return code, summary, now


def _expected(scores: pd.DataFrame, outcomes: pd.DataFrame, now: pd.Timestamp) -> dict:
    """Per week, computed here from the two tables: ROC-AUC as the Mann-Whitney statistic of
    ranks, ECE over equal-width bins, and the counts."""
    s = scores.merge(outcomes[["lead_id", "converted", "converted_at"]], on="lead_id")
    t = pd.to_datetime(s["as_of"], utc=True)
    done_before = (s["converted"] == 1) & (s["converted_at"] <= t)
    s, t = s[(t + HORIZON <= now) & ~done_before], t[(t + HORIZON <= now) & ~done_before]
    s = s.assign(
        y=((s["converted"] == 1) & (s["converted_at"] <= t + HORIZON)).astype(int),
        week=(t.dt.normalize() - pd.to_timedelta(t.dt.day_of_week, "D")).dt.date,
    )
    out = {}
    for week, g in s.groupby("week"):
        y, p = g["y"].to_numpy(), g["probability"].to_numpy()
        n1, n0 = y.sum(), len(y) - y.sum()
        auc = (rankdata(p)[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
        bins = np.minimum((p * ECE_BINS).astype(int), ECE_BINS - 1)
        ece = sum(
            abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).sum()
            for b in np.unique(bins)
        ) / len(y)
        out[week.isoformat()] = {
            "roc_auc": auc,
            "ece": ece,
            "leads": len(y),
            "conversions": n1,
            "observed_rate": y.mean(),
            "predicted_rate": p.mean(),
        }
    return out


def test_the_monitor_s_figures_are_those_of_the_scores_and_outcomes(history, monitored):
    _, summary, now = monitored
    scores = pd.read_parquet(history["folder"] / "scores.parquet")
    expected = _expected(scores, history["outcomes"], now)
    assert list(summary["windows"]) == list(expected) == WEEKS
    for week, figures in expected.items():
        got = summary["windows"][week]
        for name in ("leads", "conversions"):
            assert got[name] == figures[name], (week, name)
        for name in ("roc_auc", "ece", "observed_rate", "predicted_rate"):
            assert got[name] == pytest.approx(figures[name], abs=1e-6), (week, name)
        assert got["roc_auc_low"] < got["roc_auc"] < got["roc_auc_high"]
        assert got["nights"] == 7 and got["judged"]
    assert (
        summary["counts"]["scores"]
        == len(scores)
        == len(history["leads"][history["leads"]["created_at"] < END - pd.Timedelta(days=1)])
    )
    assert summary["counts"]["horizon_open"] == 0


def test_the_change_is_flagged_from_the_week_it_starts_and_not_before(history, monitored):
    code, summary, _ = monitored
    windows = summary["windows"]
    assert [w for w in WEEKS if windows[w]["flagged"]] == AFTER
    assert all(windows[w]["observed_rate"] > 1.5 * windows[w]["predicted_rate"] for w in AFTER)
    for week in BEFORE:  # with margin: not a near miss
        assert windows[week]["ece"] < 0.6 * MONITOR["max_ece"], week
        assert windows[week]["roc_auc"] > MONITOR["min_roc_auc"] + 0.05, week
    for week in AFTER:
        assert windows[week]["ece"] > 1.5 * MONITOR["max_ece"], week
    assert (code, summary["latest_window"], summary["retrain"]) == (9, WEEKS[-1], True)
    # a month after the change started, the last complete week is the one before it: all well
    early_code, early = _monitor(history, CHANGE + HORIZON + pd.Timedelta(hours=1), "early")
    assert (early_code, early["latest_window"], early["retrain"]) == (0, BEFORE[-1], False)
    assert list(early["windows"]) == BEFORE
    assert early["counts"]["horizon_open"] > 0
    # a week later, the week the change started is complete: the signal comes with it
    first_code, first = _monitor(history, CHANGE + HORIZON + pd.Timedelta(days=7), "first")
    assert (first_code, first["latest_window"]) == (9, AFTER[0])


def test_the_runs_table_holds_one_row_per_night_with_the_drift_history(history, monitored):
    _, summary, _ = monitored
    runs = pd.read_parquet(history["folder"] / "scores_runs.parquet")
    assert len(runs) == runs["night"].nunique() == history["nights"]
    assert list(summary["runs"]) == sorted(runs["night"])
    scores = pd.read_parquet(history["folder"] / "scores.parquet")
    by_night = scores.groupby(pd.to_datetime(scores["as_of"], utc=True).dt.strftime("%F"))
    for night, rows in by_night:
        run_ = summary["runs"][night]
        assert run_["scored"] == len(rows) and run_["read"] >= len(rows)
        assert run_["share_sales_ready"] == pytest.approx((rows["band"] == "sales_ready").mean())
        assert run_["score_p50"] == np.quantile(rows["score"], 0.5, method="inverted_cdf")
        assert run_["psi_probability"] is not None


def test_the_page_renders_offline_and_shows_the_json_s_figures(history, monitored, tmp_path):
    _, summary, _ = monitored
    page_path = history["folder"] / "monitoring/monitoring.html"
    requests, errors = [], []
    SCREENSHOT.parent.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1366, "height": 768},
        )
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
        browser.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert len(images) == 3 and all(loaded for _, loaded in images)
    assert "<script" not in page_path.read_text()
    assert "Retrain." in text and f"latest judged window ({WEEKS[-1]})" in text
    pixels = matplotlib.image.imread(SCREENSHOT)[..., :3]
    assert pixels.shape[0] > 1500 and (pixels.min(axis=2) < 0.9).mean() > 0.03
    html = page_path.read_text()
    shown = re.findall(
        r'data-metric="([^"]+)" data-value="([^"]+)" data-scale="([^"]+)">([^<]+)<', html
    )
    paths = {path for path, *_ in shown}
    for week in WEEKS:
        assert {
            f"windows.{week}.{k}"
            for k in (
                "roc_auc",
                "ece",
                "leads",
                "observed_rate",
                "predicted_rate",
                "bands.sales_ready.precision",
            )
        } <= paths
    assert {f"runs.{night}.psi_probability" for night in summary["runs"]} <= paths
    for path, value, scale, text_ in shown:
        expected = lookup(summary, path)
        if expected is None:
            assert (value, text_) == ("None", "—"), path
            continue
        assert float(value) == expected, path
        decimals = len(text_.split(".")[1]) if "." in text_ else 0
        assert abs(float(text_) - float(value) * float(scale)) <= 0.5 * 10**-decimals + 1e-9, path


def test_no_email_name_or_phone_reaches_the_monitoring_files(history, monitored):
    leads = history["leads"]
    found = {
        c: leads[c].dropna().astype(str).unique().tolist()
        for c in ("email", "first_name", "last_name", "phone")
    }
    found["phone"] = [v for v in found["phone"] if len(re.sub(r"\D", "", v)) >= 7]
    assert min(len(v) for v in found.values()) > 10
    folder = history["folder"] / "monitoring"
    html = re.sub(
        r"data:image/png;base64,[A-Za-z0-9+/=]+", "", (folder / "monitoring.html").read_text()
    )
    texts = {"monitoring.html": html, "monitoring.json": (folder / "monitoring.json").read_text()}
    for column, values in found.items():
        pattern = re.compile(r"(?<![\w@+.])(?:" + "|".join(map(re.escape, values)) + r")(?![\w@])")
        for name, text in texts.items():
            assert pattern.findall(text) == [], f"{column} values in {name}"


def test_monitor_errors_have_their_exit_codes(history, tmp_path):
    folder, env = history["folder"], history["env"]
    base = [
        "leadscore",
        "monitor",
        "--scores",
        str(folder / "scores.parquet"),
        "--outcomes",
        str(folder / "leads_with_outcomes.parquet"),
        "--out",
        "m",
        "--params",
        str(folder / "params.yaml"),
    ]
    pd.DataFrame({"lead_id": ["x"]}).to_parquet(tmp_path / "no_label.parquet")
    cases = [
        (2, [*base, "--as-of", "soon"]),
        (3, [*base, "--runs", str(tmp_path / "missing_runs.parquet")]),
        (4, [*base, "--outcomes", str(tmp_path / "no_label.parquet")]),
    ]
    for code, cmd in cases:
        done = run(cmd, tmp_path, env, check=False)
        assert done.returncode == code, (cmd, done.stderr)
        assert "error:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_scores_in_a_database_or_a_dask_folder_give_the_same_windows(history, monitored, tmp_path):
    _, summary, now = monitored
    folder = history["folder"]
    scores = pd.read_parquet(folder / "scores.parquet")
    runs = pd.read_parquet(folder / "scores_runs.parquet")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    scores.to_sql("scores", engine, index=False)
    runs.to_sql("scores_runs", engine, index=False)
    (tmp_path / "dask").mkdir()
    for k, part in scores.groupby(np.arange(len(scores)) % 3):
        part.to_parquet(tmp_path / "dask" / f"part-{k}.parquet")
    runs.to_parquet(tmp_path / "dask_runs.parquet")
    for where, runs_at in [
        (f"sqlite:///{tmp_path / 'crm.db'}#scores", f"sqlite:///{tmp_path / 'crm.db'}#scores_runs"),
        (str(tmp_path / "dask"), str(tmp_path / "dask_runs.parquet")),
    ]:
        out = tmp_path / f"out{len(where)}"
        done = CliRunner().invoke(
            app,
            [
                "monitor",
                "--scores",
                where,
                "--outcomes",
                str(folder / "leads_with_outcomes.parquet"),
                "--out",
                str(out),
                "--as-of",
                now.isoformat(),
                "--params",
                str(folder / "params.yaml"),
            ],
        )
        assert done.exit_code == 9, done.output
        got = json.loads((out / "monitoring.json").read_text())
        assert got["runs_table"] == runs_at  # found beside the scores
        assert got["runs"] == summary["runs"]
        _assert_close(got["windows"], summary["windows"])  # rows in another order: sums differ


def _assert_close(got: object, expected: object) -> None:
    """Equal, numbers to 1e-12 relative (float sums depend on the order of the rows)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys()
        for key, value in expected.items():
            _assert_close(got[key], value)
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    else:
        assert got == expected
