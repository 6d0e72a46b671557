"""The real pipeline, end to end: `dvc repro` on a small generated table in a temporary folder."""

import json
import os
import shutil
import stat
import warnings

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore.data.files import kept_figures
from leadscore.scoring.artifact import bundle_path, load_scorer
from support import json_files, run, strict_json

pytestmark = pytest.mark.slow


def test_pipeline_writes_every_declared_artifact(project):
    root, _ = project
    for path in (
        "reports/metrics.json",
        "reports/model_report.html",
        "reports/validation.json",
        "reports/plots/calibration.csv",
        "models/lead_scorer/MLmodel",
    ):
        assert (root / path).exists(), path


def test_held_out_metrics_beat_baselines_and_stay_below_the_best_achievable(project):
    metrics = json.loads((project[0] / "reports/metrics.json").read_text())
    assert metrics["roc_auc"] > 0.65
    assert metrics["roc_auc"] > metrics["fit_only"]["roc_auc"]
    assert metrics["log_loss"] < metrics["base_rate"]["log_loss"]
    assert 0.6 < metrics["bayes_roc_auc"] < 0.99
    assert metrics["roc_auc_on_bayes_rows"] <= metrics["bayes_roc_auc"] + 0.03


def test_the_lead_over_the_linear_model_comes_with_its_interval_and_the_headroom(project):
    metrics = json.loads((project[0] / "reports/metrics.json").read_text())
    vs = metrics["roc_auc_difference"]["logistic_regression"]
    lead = metrics["roc_auc"] - metrics["logistic_regression"]["roc_auc"]
    assert vs["difference"] == pytest.approx(lead, abs=1e-9)
    assert vs["interval_95"]["low"] < vs["difference"] < vs["interval_95"]["high"]
    assert vs["beyond_two_standard_errors"] == (vs["difference"] > 2 * vs["standard_error"])
    room = metrics["headroom"]["roc_auc"]
    assert room["best_achievable"] == metrics["bayes_roc_auc"]
    assert room["leadscore"] == metrics["roc_auc_on_bayes_rows"]
    assert room["gap_left_by_linear"] == pytest.approx(
        room["closed_by_leadscore"] + room["left_by_leadscore"]
    )
    html = (project[0] / "reports/model_report.html").read_text()
    claim = "It beats every baseline on this window"
    beats = metrics["beats_baselines"] and vs["beyond_two_standard_errors"]
    assert (claim in html) == beats


def test_training_batch_and_single_lead_paths_give_the_same_features_and_scores(project):
    """Train/serve parity: the rows the model was trained and tested on, rebuilt through the
    exported artifact for a whole batch and for one lead at a time, are identical."""
    root, _ = project
    scorer = load_scorer(root / "models/lead_scorer")
    trained = pd.read_parquet(root / "data/processed/features.parquet")
    leads = pd.read_parquet(root / "data/interim/leads.parquet").set_index("lead_id")
    events = pd.read_parquet(root / "data/interim/events.parquet")
    test = trained[trained["split"] == "test"].sample(frac=1.0, random_state=1)
    rows = test.drop_duplicates("lead_id").head(40).reset_index(drop=True)  # ages 0, 1 and 7
    batch_leads = leads.loc[rows["lead_id"]].reset_index()
    batch = scorer.featurize(batch_leads, events, rows["as_of"])
    pd.testing.assert_frame_equal(batch, rows[batch.columns])
    scores = scorer.score(batch)["probability"]
    np.testing.assert_array_equal(scores, scorer.scores_table(rows)["probability"])
    for i in range(5):
        one = batch_leads.iloc[[i]]
        own = events[events["lead_id"] == one["lead_id"].iloc[0]]
        online = scorer.featurize(one, own, rows["as_of"].iloc[[i]])
        pd.testing.assert_frame_equal(online, rows.iloc[[i]][batch.columns].reset_index(drop=True))
        assert scorer.score(online)["probability"][0] == scores[i]


def test_second_repro_has_nothing_to_do_and_metrics_show(project):
    root, env = project
    again = run(["dvc", "repro"], root, env)
    assert "Data and pipelines are up to date" in again.stdout + again.stderr
    shown = run(["dvc", "metrics", "show"], root, env).stdout
    assert "roc_auc" in shown


def test_mlflow_holds_the_run_and_the_registered_model(project):
    root, env = project
    client = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    run_id = json.loads((root / "data/model/run.json").read_text())["run_id"]
    logged = client.get_run(run_id).data
    assert "train.learning_rate" in logged.params
    assert logged.tags["param.featurize.half_life_days"] == "7.0"
    assert len(logged.tags["git_commit"]) > 0
    assert any(k.startswith("dvc.data/processed/features.parquet") for k in logged.tags)
    assert 0.5 < logged.metrics["test.roc_auc"] <= 1
    version = client.get_model_version_by_alias("lead-scorer", "candidate")
    assert version.run_id == run_id


def test_batch_scoring_reconciles_and_matches_pyfunc(project):
    root, env = project
    leads = pd.read_parquet(root / "data/raw/leads.parquet").head(300)
    leads.loc[0, "created_at"] = pd.NaT  # one bad row must land in the quarantine
    leads.drop(columns=["converted", "converted_at"]).to_parquet(root / "tonight.parquet")
    as_of = "2026-10-01T00:00:00Z"
    done = run(
        [
            "leadscore",
            "score",
            "--model",
            "models/lead_scorer",
            "--leads",
            "tonight.parquet",
            "--events",
            "data/raw/events.parquet",
            "--out",
            "scores.parquet",
            "--as-of",
            as_of,
        ],
        root,
        env,
    )
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["scored"], summary["quarantined"]) == (300, 299, 1)
    scores = pd.read_parquet(root / "scores.parquet")
    assert scores["probability"].between(0, 1).all() and scores["band"].notna().all()
    quarantine = pd.read_parquet(root / "scores_quarantine.parquet")
    assert quarantine["reason"].tolist() == ["missing_created_at"]
    drift = json.loads((root / "scores_drift.json").read_text())
    assert drift == summary["drift_psi"] and "probability" in drift
    assert all(value >= 0 for value in drift.values())
    strict = run(
        ["leadscore", "score", "--model", "models/lead_scorer", "--leads", "tonight.parquet",
         "--out", "strict.parquet", "--as-of", as_of, "--drift-threshold", "0",
         "--fail-on-drift"], root, env, check=False,
    )  # fmt: skip
    assert strict.returncode == 8, strict.stderr
    assert (root / "strict.parquet").exists()  # the scores are written before the verdict
    pyfunc = mlflow.pyfunc.load_model(str(root / "models/lead_scorer"))
    direct = load_scorer(root / "models/lead_scorer")
    sample = leads.iloc[1:50].drop(columns=["converted", "converted_at"]).assign(as_of=as_of)
    via_pyfunc = pyfunc.predict(sample)
    canonical = sample.drop(columns="as_of")
    via_scorer = direct.score(direct.featurize(canonical, None, pd.Timestamp(as_of)))
    np.testing.assert_allclose(
        via_pyfunc["probability"], via_scorer["probability"], rtol=0, atol=1e-12
    )


def test_bad_params_fail_the_stage_with_a_named_key(project):
    root, env = project
    bad = root / "bad_params.yaml"
    bad.write_text("train:\n  learnig_rate: 0.1\n")
    done = run(["leadscore", "train", "--params", str(bad)], root, env, check=False)
    assert done.returncode == 2
    assert "unknown key 'train.learnig_rate'" in done.stderr


def test_promotion_refuses_a_worse_candidate_unless_forced(project, tmp_path):
    """Works on a copy: it retrains a deliberately weak model into the project's bundle."""
    shared, env = project
    root = tmp_path / "promotion"
    shutil.copytree(shared, root)
    env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    client = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    first = run(["leadscore", "promote"], root, env)
    assert json.loads(first.stdout)["reason"] == "no champion yet"
    weak = yaml.safe_load((root / "params.yaml").read_text())
    weak["train"]["max_rounds"] = 1
    (root / "weak.yaml").write_text(yaml.safe_dump(weak))
    for verb in ("train", "calibrate", "export"):
        run(["leadscore", verb, "--params", "weak.yaml"], root, env)
    refused = run(["leadscore", "promote"], root, env, check=False)
    assert refused.returncode == 7, refused.stderr
    assert "not promoted" in refused.stderr
    champion = client.get_model_version_by_alias("lead-scorer", "champion")
    candidate = client.get_model_version_by_alias("lead-scorer", "candidate")
    assert (str(champion.version), str(candidate.version)) == ("1", "2")
    assert client.get_model_version("lead-scorer", "2").tags["promotion"] == "refused"
    # the candidate is the workspace's model (v2), wherever the export alias points
    client.set_registered_model_alias("lead-scorer", "candidate", "1")
    again = run(["leadscore", "promote"], root, env, check=False)
    assert again.returncode == 7 and "candidate v2 not promoted" in again.stderr, again.stderr
    forced = json.loads(run(["leadscore", "promote", "--force"], root, env).stdout)
    assert forced["promoted"] and forced["reason"].startswith("forced")
    assert str(client.get_model_version_by_alias("lead-scorer", "champion").version) == "2"


def test_the_artifact_states_its_input_and_warns_on_other_library_versions(project, tmp_path):
    root, _ = project
    artifact = tmp_path / "lead_scorer"
    shutil.copytree(root / "models/lead_scorer", artifact)
    bundle = bundle_path(artifact)
    schema = json.loads((bundle / "input_schema.json").read_text())
    required = {c["role"] for c in schema["leads"] if c["required"]}
    assert required == {"lead_id", "created_at"}
    assert {c["role"] for c in schema["leads"] if c["personal"]} >= {"email", "phone"}
    assert "converted" not in {c["role"] for c in schema["leads"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the versions it was trained with: silence
        load_scorer(artifact)
    metadata = json.loads((bundle / "metadata.json").read_text())
    metadata["libraries"]["lightgbm"] = "3.0.0"
    (bundle / "metadata.json").write_text(json.dumps(metadata))
    with pytest.warns(UserWarning, match=r"lightgbm 3\.0\.0 \(here 4\."):
        load_scorer(artifact)


def test_every_json_file_of_the_run_is_strict_json(project):
    root, _ = project
    files = json_files(root)
    assert len(files) >= 10  # metrics, audit, validation, the bundle's files, the artifact's
    for path in files:
        strict_json(path.read_text())


def test_the_artifact_is_readable_by_other_users_as_the_umask_allows(project):
    """Every file and folder of the artifact has the mode the umask gives: with the usual 022,
    another user (or a container running as non-root) can read and load it."""
    artifact = project[0] / "models/lead_scorer"
    umask = os.umask(0o022)
    os.umask(umask)  # the umask the pipeline ran with: this process's
    for path in [artifact, *artifact.rglob("*")]:
        others = stat.S_IMODE(path.stat().st_mode) & 0o007
        wanted = (0o005 if path.is_dir() else 0o004) & ~umask
        assert others & 0o005 == wanted, f"{path}: {oct(path.stat().st_mode)}"


def test_the_input_example_is_a_lead_with_events_and_no_personal_data(project):
    root, _ = project
    example = json.loads((root / "models/lead_scorer/input_example.json").read_text())
    row = dict(zip(example["columns"], example["data"][0], strict=True))
    assert row["lead_id"] and row["created_at"] and row["as_of"] and row["events"]
    assert not {"email", "phone", "first_name", "last_name"} & set(row)
    leads = pd.read_parquet(root / "data/raw/leads.parquet")
    personal = set(leads[["email", "phone", "first_name", "last_name"]].stack().astype(str))
    text = json.dumps(example)
    assert not [value for value in personal if f'"{value}"' in text]


def test_the_figures_git_keeps_are_rounded_to_what_a_rerun_reproduces(project):
    """metrics, plots and the validation summary are committed: their 16th digit must not move
    with the order of a sum (a fresh clone's `make run` leaves git status clean)."""
    root = project[0]
    metrics = json.loads((root / "reports/metrics.json").read_text())
    assert kept_figures(metrics) == metrics
    validation = json.loads((root / "reports/validation.json").read_text())
    assert kept_figures(validation) == validation
    for plot in (root / "reports/plots").glob("*.csv"):
        table = pd.read_csv(plot)
        pd.testing.assert_frame_equal(kept_figures(table), table)
