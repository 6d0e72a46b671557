"""export: the self-describing artifact in models/lead_scorer, registered in MLflow."""

from __future__ import annotations

from pathlib import Path

import mlflow

from leadscore.config import ExportConfig, Params
from leadscore.data.files import file_sha256, read_json, read_table, write_json
from leadscore.scoring import packaging
from leadscore.scoring.bundle import DRIFT_FILE, INPUT_SCHEMA_FILE, METADATA_FILE
from leadscore.scoring.signing import sign_bundle
from leadscore.tracking import dvc_lock_tags, flatten, log_and_register, resume_run


def run(
    cfg: ExportConfig,
    params: Params,
    *,
    bundle_dir: Path,
    features_path: Path,
    leads_path: Path,
    events_path: Path | None,
    metrics_path: Path,
    run_file: Path,
    out_dir: Path,
) -> dict:
    features = read_table(features_path)
    compiled = packaging.compile_bundle(bundle_dir, features)
    write_json(packaging.drift_reference(bundle_dir, features), bundle_dir / DRIFT_FILE)
    write_json(packaging.input_schema(bundle_dir), bundle_dir / INPUT_SCHEMA_FILE)
    metadata = packaging.metadata(
        params,
        run_id=read_json(run_file)["run_id"],
        fingerprint=file_sha256(features_path),
        metrics=read_json(metrics_path),
        compiled=compiled,
        files=packaging.bundle_checksums(bundle_dir),  # last: every other file is written
    )
    write_json(metadata, bundle_dir / METADATA_FILE)
    sign_bundle(bundle_dir)
    events = read_table(events_path) if events_path is not None else None
    example = packaging.input_example(bundle_dir, features, read_table(leads_path), events)
    spec = packaging.pyfunc_spec(bundle_dir, example=example)
    packaging.save_artifact(spec, out_dir)
    with resume_run(run_file):
        param_tags = {f"param.{k}": v for k, v in flatten("", metadata["params"]).items()}
        mlflow.set_tags({"git_commit": metadata["git_commit"], **dvc_lock_tags(Path("dvc.lock"))})
        mlflow.set_tags(param_tags)
        mlflow.log_dict(metadata["params"], "params.yaml")
        version = log_and_register(spec, name=cfg.registered_model_name, alias=cfg.alias)
    return {
        "artifact": str(out_dir),
        "model_version": metadata["model_version"],
        "registered": f"{cfg.registered_model_name} v{version} @{cfg.alias}",
    }
