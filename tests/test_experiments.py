"""Experiments a team can compare, share and reproduce, in a temporary git clone of the project.

The clone's `main` is the shared small demo (the `project` fixture's `dvc repro` of 4,000 leads),
committed with its metrics and plots; one `dvc exp run` with another learning rate (search off)
follows. DVC must then compare the workspace, `main` and the experiment, MLflow must name the
experiment, and after the experiment is committed a `dvc push` to the default remote lets a
second clone `dvc pull` the same model and scores without training.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from leadscore.tracking import EXPERIMENT
from support import BIN, REPO, run

pytestmark = pytest.mark.slow

# What the `project` fixture's `dvc repro` made: its copy of the repository, outputs, DVC cache
PIPELINE_PATHS = ("dvc.yaml", "params.yaml", "config", "src", "dvc.lock", "data", "models",
                  "reports", ".dvc/cache")  # fmt: skip
# and the rest of a clone of the repository
REPO_FILES = (".gitignore", ".dvcignore", ".dvc/config", ".dvc/.gitignore")
METRIC_FILES = {"reports/metrics.json", "reports/validation.json"}
PLOT_NAMES = (
    "calibration",
    "calibration_before",
    "calibration_equal_mass",
    "gain",
    "roc",
    "precision_recall",
    "lift",
    "thresholds",
)
AS_OF = "2026-10-01T00:00Z"  # after the demo's last lead, so every lead is scored


def _dvc_json(args: list[str], cwd: Path, env: dict):
    return json.loads(run(["dvc", *args, "--json"], cwd, env).stdout)


def _roc_auc(row: dict) -> float:
    return row["data"]["metrics"]["reports/metrics.json"]["data"]["roc_auc"]


def _tree_md5(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _score(project: Path, env: dict) -> pd.DataFrame:
    out = project / "scores.parquet"
    run(
        ["leadscore", "score", "--model", "models/lead_scorer", "--leads",
         "data/raw/leads.parquet", "--events", "data/raw/events.parquet", "--out", str(out),
         "--as-of", AS_OF],
        project,
        env,
    )  # fmt: skip
    return pd.read_parquet(out).drop(columns="scored_at").sort_values("lead_id", ignore_index=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """The folder that holds the clones, and beside them the default DVC remote."""
    return tmp_path_factory.mktemp("experiments")


@pytest.fixture(scope="module")
def env(workspace: Path) -> dict:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)  # each clone's own mlflow.db, as on a fresh clone
    return env


@pytest.fixture(scope="module")
def clone(project, workspace: Path, env: dict) -> Path:
    """A git repository whose `main` is the shared small demo (the `project` fixture's
    `dvc repro` of 4,000 leads), committed as a team would: what git keeps and nothing else."""
    root, _ = project
    clone = workspace / "leadscore"
    clone.mkdir()
    for name in PIPELINE_PATHS:  # the trained pipeline; not what other tests wrote beside it
        copy = shutil.copytree if (root / name).is_dir() else shutil.copy
        copy(root / name, clone / name)
    for name in REPO_FILES:  # the rest of a clone of the repository, as committed
        shutil.copy(REPO / name, clone / name)
    run(["git", "init", "-q", "-b", "main"], clone, env)
    run(["git", "config", "user.name", "leadscore tests"], clone, env)
    run(["git", "config", "user.email", "tests@leadscore.invalid"], clone, env)
    run(["git", "add", "-A"], clone, env)
    run(["git", "commit", "-q", "-m", "the small demo, trained"], clone, env)
    return clone


@pytest.fixture(scope="module")
def experiment(clone: Path, env: dict) -> dict:
    """One experiment with another learning rate, and what DVC says about it right after."""
    # with the search on, it would choose the learning rate itself (docs/experiments.md)
    run(
        ["dvc", "exp", "run", "-S", "train.tuning_trials=0", "-S", "train.learning_rate=0.1"],
        clone,
        env,
    )
    return {
        "show": _dvc_json(["exp", "show"], clone, env),
        "metrics_diff": _dvc_json(["metrics", "diff", "main"], clone, env),
        "plots_diff": _dvc_json(["plots", "diff", "main"], clone, env),
        "baseline_rev": run(["git", "rev-parse", "HEAD"], clone, env).stdout.strip(),
    }


def test_git_holds_the_metrics_and_plots_and_dvc_the_rest(clone, env):
    tracked = set(run(["git", "ls-files"], clone, env).stdout.split())
    outside_code = {name for name in tracked if not name.startswith(("src/", "config/"))}
    plots = {f"reports/plots/{name}.csv" for name in PLOT_NAMES}
    pipeline = {"dvc.yaml", "dvc.lock", "params.yaml", *REPO_FILES}
    assert outside_code == pipeline | METRIC_FILES | plots
    assert _dvc_json(["status"], clone, env) == {}  # every other output is in the DVC cache


def test_exp_show_has_roc_auc_for_the_workspace_main_and_the_experiment(clone, env, experiment):
    workspace, main = experiment["show"]
    assert (workspace["rev"], main["name"]) == ("workspace", "main")
    (branch,) = main["experiments"]
    (exp,) = branch["revs"]
    committed = yaml.safe_load(run(["git", "show", "main:params.yaml"], clone, env).stdout)
    assert committed["train"]["learning_rate"] != 0.1
    assert exp["data"]["params"]["params.yaml"]["data"]["train"]["learning_rate"] == 0.1
    assert (
        main["data"]["params"]["params.yaml"]["data"]["train"]["learning_rate"]
        == committed["train"]["learning_rate"]
    )
    values = {"workspace": _roc_auc(workspace), "main": _roc_auc(main), "exp": _roc_auc(exp)}
    assert all(0.6 < value < 1 for value in values.values()), values
    # the workspace holds the experiment's results; main its own, from another learning rate
    assert values["workspace"] == values["exp"] != values["main"]


def test_metrics_diff_compares_the_workspace_with_main(experiment):
    workspace, main = experiment["show"]
    roc_auc = experiment["metrics_diff"]["reports/metrics.json"]["roc_auc"]
    assert roc_auc["old"] == _roc_auc(main)
    assert roc_auc["new"] == _roc_auc(workspace)
    assert roc_auc["diff"] == pytest.approx(roc_auc["new"] - roc_auc["old"])
    assert roc_auc["diff"] != 0


def test_plots_diff_overlays_the_workspace_and_main(experiment):
    plots = experiment["plots_diff"]["data"]
    for name in PLOT_NAMES:
        (plot,) = plots[f"reports/plots/{name}.csv"]
        assert set(plot["revisions"]) == {"workspace", "main"}
    roc = plots["reports/plots/roc.csv"][0]["content"]["data"]["values"]
    curves = {
        rev: [(p["fpr"], p["tpr"]) for p in roc if p["rev"] == rev] for rev in ("main", "workspace")
    }
    assert curves["main"] and curves["workspace"] and curves["main"] != curves["workspace"]


def _runs(tracking_uri: str) -> tuple[MlflowClient, list]:
    client = MlflowClient(tracking_uri=tracking_uri)
    return client, client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])


def test_the_mlflow_run_of_the_experiment_carries_its_dvc_name(project, clone, experiment):
    (exp,) = experiment["show"][1]["experiments"][0]["revs"]
    _, trained_by_repro = _runs(project[1]["MLFLOW_TRACKING_URI"])  # main's, before the copy
    assert trained_by_repro and all("dvc_experiment" not in r.data.tags for r in trained_by_repro)
    client, (tagged,) = _runs(f"sqlite:///{clone / 'mlflow.db'}")
    assert tagged.data.tags["dvc_experiment"] == exp["name"]
    assert tagged.data.tags["dvc_baseline_rev"] == experiment["baseline_rev"]
    assert tagged.data.params["train.learning_rate"] == "0.1"
    assert tagged.data.metrics["test.roc_auc"] == pytest.approx(_roc_auc(exp))
    # and the way back: the experiment's run is one search away
    found = client.search_runs(
        [tagged.info.experiment_id], filter_string=f"tags.dvc_experiment = '{exp['name']}'"
    )
    assert [r.info.run_id for r in found] == [tagged.info.run_id]


def test_a_second_clone_pulls_the_same_model_and_scores_without_training(
    workspace, clone, experiment, env
):
    # the experiment becomes main, and its outputs go to the default remote beside the clone
    run(["git", "commit", "-q", "-am", "learning rate 0.1"], clone, env)
    pushed = run(["dvc", "push"], clone, env).stdout
    assert "pushed" in pushed
    remote = workspace / "leadscore-dvc-remote"
    assert remote.is_dir() and any(remote.rglob("*"))
    assert _dvc_json(["status", "--cloud"], clone, env) == {}

    colleague = workspace / "colleague"
    run(["git", "clone", "-q", str(clone), str(colleague)], workspace, env)
    assert not (colleague / "models" / "lead_scorer").exists()
    run(["dvc", "pull"], colleague, env)
    assert "up to date" in run(["dvc", "status"], colleague, env).stdout
    assert _dvc_json(["status"], colleague, env) == {}
    assert not (colleague / "mlflow.db").exists()  # nothing was trained there

    for folder in ("models/lead_scorer", "data/model", "reports"):
        assert _tree_md5(colleague / folder) == _tree_md5(clone / folder), folder
    pd.testing.assert_frame_equal(_score(colleague, env), _score(clone, env), check_exact=True)
