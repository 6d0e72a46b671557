"""MLflow bookkeeping: one run per training, resumed by the later stages of the same pipeline.

The tracking URI comes from the environment (``MLFLOW_TRACKING_URI``) and defaults to an embedded
SQLite store in the working directory, so nothing needs a server and ``mlflow ui`` just works.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import mlflow
import sqlalchemy as sa
import yaml
from mlflow import MlflowClient

from leadscore.data.files import read_json, write_json
from leadscore.data.tables import storage_reason
from leadscore.errors import InputError
from leadscore.redaction import redact

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
EXPERIMENT = "leadscore"
# What `dvc exp run` (DVC 3) puts into the environment of every stage it runs -> the run's tag
DVC_EXPERIMENT_TAGS = {"DVC_EXP_NAME": "dvc_experiment", "DVC_EXP_BASELINE_REV": "dvc_baseline_rev"}


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)


def shown_tracking_uri() -> str:
    """The tracking URI as messages, summaries and files show it: without its password."""
    return redact(tracking_uri())


@contextmanager
def store_errors() -> Iterator[None]:
    """A tracking store that cannot be used (a corrupt or locked ``mlflow.db``, a database
    gone) as an :class:`InputError`, exit code 3: MLflow lets SQLAlchemy's and sqlite3's errors
    through as they are, which the CLI reports as an unexpected error (exit code 1)."""
    try:
        yield
    except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
        raise InputError(
            f"the MLflow tracking store cannot be used ({storage_reason(exc)}); check "
            "MLFLOW_TRACKING_URI and that no other process holds the store"
        ) from exc


@contextmanager
def new_run(run_file: str | Path, run_name: str) -> Iterator[mlflow.ActiveRun]:
    """Start the pipeline's run and record its id for the stages that follow; under
    `dvc exp run` the run is tagged with the DVC experiment it belongs to."""
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=run_name, tags=dvc_experiment_tags(os.environ)) as run:
        write_json({"run_id": run.info.run_id, "tracking_uri": shown_tracking_uri()}, run_file)
        yield run


@contextmanager
def resume_run(run_file: str | Path) -> Iterator[mlflow.ActiveRun]:
    mlflow.set_tracking_uri(tracking_uri())
    with mlflow.start_run(run_id=read_json(run_file)["run_id"]) as run:
        yield run


def flatten(prefix: str, values: dict) -> dict[str, object]:
    """Nested config → MLflow's flat ``section.key`` parameters."""
    flat: dict[str, object] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten(name, value) if isinstance(value, dict) else {name: value})
    return flat


def dvc_experiment_tags(environ: Mapping[str, str]) -> dict[str, str]:
    """The DVC experiment's name and the commit it started from, as run tags, so an MLflow run
    leads to `dvc exp show` / `dvc exp apply` and an experiment to its run (a search by tag).

    DVC sets ``DVC_EXP_NAME`` and ``DVC_EXP_BASELINE_REV`` for the stages of `dvc exp run` only;
    under `dvc repro` there is no experiment and no tag.
    """
    return {tag: environ[name] for name, tag in DVC_EXPERIMENT_TAGS.items() if environ.get(name)}


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


def log_and_register(spec: dict, *, name: str, alias: str) -> str:
    """Log the artifact to the active run, register it as a new version of ``name`` and move
    ``alias`` to it; return the version."""
    info = mlflow.pyfunc.log_model(name="lead_scorer", **spec, registered_model_name=name)
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(name, alias, version)
    return version
