"""export: the self-describing artifact in models/lead_scorer, registered in MLflow."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import yaml
from mlflow import MlflowClient

from leadscore.artifact import (
    BUNDLE,
    INPUT_SCHEMA_FILE,
    METADATA_FILE,
    file_fingerprint,
    git_commit,
    input_schema,
    library_versions,
)
from leadscore.compiled import COMPILED_DIR, compile_model
from leadscore.config import ExportConfig, Params
from leadscore.drift import profile
from leadscore.io import read_json, read_table, write_json
from leadscore.scorer import DRIFT_FILE, MODEL_FILE, Scorer
from leadscore.tracking import flatten, resume_run
from leadscore.training import gain_importance

PYFUNC_CODE = Path(__file__).parents[1] / "pyfunc_model.py"
CHECK_ROWS = 500  # held-out rows the compiled model must reproduce the Booster on at each load


def run(
    cfg: ExportConfig,
    params: Params,
    bundle_dir: Path,
    features_path: Path,
    metrics_path: Path,
    run_file: Path,
    out_dir: Path,
) -> dict:
    run_id = read_json(run_file)["run_id"]
    fingerprint = file_fingerprint(features_path)
    features = read_table(features_path)
    compiled = compile_forest(bundle_dir, features)
    metadata = {
        "model_version": f"{run_id[:12]}-{fingerprint[:8]}",
        "mlflow_run_id": run_id,
        "data_fingerprint": fingerprint,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "params": params.model_dump(by_alias=True, mode="json"),
        "metrics": read_json(metrics_path),
        "compiled": compiled,
    }
    write_json(metadata, bundle_dir / METADATA_FILE)
    write_json(drift_reference(bundle_dir, features), bundle_dir / DRIFT_FILE)
    write_json(input_schema(params.schema_), bundle_dir / INPUT_SCHEMA_FILE)
    requirements = [
        f"{lib}=={v}" for lib, v in metadata["libraries"].items() if v and lib != "leadscore"
    ]
    model = {
        "python_model": str(PYFUNC_CODE),  # models from code: the artifact holds no pickle
        "artifacts": {BUNDLE: str(bundle_dir)},
        "pip_requirements": requirements,
    }
    shutil.rmtree(out_dir, ignore_errors=True)
    mlflow.pyfunc.save_model(str(out_dir), **model)
    with resume_run(run_file):
        mlflow.set_tags(
            {"git_commit": metadata["git_commit"], **dvc_lock_tags(Path("dvc.lock"))}
            | {f"param.{k}": v for k, v in flatten("", metadata["params"]).items()}
        )
        mlflow.log_dict(metadata["params"], "params.yaml")
        info = mlflow.pyfunc.log_model(
            name="lead_scorer", **model, registered_model_name=cfg.registered_model_name
        )
    version = info.registered_model_version
    MlflowClient().set_registered_model_alias(cfg.registered_model_name, cfg.alias, version)
    return {
        "artifact": str(out_dir),
        "model_version": metadata["model_version"],
        "registered": f"{cfg.registered_model_name} v{version} @{cfg.alias}",
    }


def dvc_lock_tags(lock: Path) -> dict[str, str]:
    """The content hash of every pipeline output recorded in ``dvc.lock``, as run tags, so an
    MLflow run names exactly the data and intermediate files it came from."""
    if not lock.exists():
        return {}
    stages = yaml.safe_load(lock.read_text()).get("stages", {})
    return {
        f"dvc.{out['path']}": out.get("md5", "")
        for stage in stages.values()
        for out in stage.get("outs", [])
    }


def compile_forest(bundle_dir: Path, features: pd.DataFrame) -> dict:
    """Compile the model into the bundle (see :mod:`leadscore.compiled`), with held-out rows
    (training rows if there are too few) for every later load to check it against."""
    shutil.rmtree(bundle_dir / COMPILED_DIR, ignore_errors=True)  # a stale one is not loaded
    scorer = Scorer.load(bundle_dir)
    rows = pd.concat([features[features["split"] == "test"], features]).head(CHECK_ROWS)
    sample = scorer.encoder.matrix(rows)
    return compile_model(bundle_dir / MODEL_FILE, sample, bundle_dir / COMPILED_DIR)


def drift_reference(bundle_dir: Path, features: pd.DataFrame, top: int = 10) -> dict:
    """Profile of the score and the ``top`` features by gain on the training window."""
    scorer = Scorer.load(bundle_dir)
    train = features[features["split"] == "train"].reset_index(drop=True)
    scored = scorer.score_features(train, explain_bands=())
    columns = gain_importance(scorer.booster)["feature"].head(top).tolist()
    return profile(train.assign(probability=scored["probability"].to_numpy()),
                   ["probability", *columns])  # fmt: skip
