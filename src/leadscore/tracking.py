"""MLflow bookkeeping: one run per training, resumed by the later stages of the same pipeline.

The tracking URI comes from the environment (``MLFLOW_TRACKING_URI``) and defaults to an embedded
SQLite store in the working directory, so nothing needs a server and ``mlflow ui`` just works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow

from leadscore.io import read_json, write_json

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
EXPERIMENT = "leadscore"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)


@contextmanager
def new_run(run_file: str | Path, run_name: str) -> Iterator[mlflow.ActiveRun]:
    """Start the pipeline's run and record its id for the stages that follow."""
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=run_name) as run:
        write_json({"run_id": run.info.run_id, "tracking_uri": tracking_uri()}, run_file)
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
