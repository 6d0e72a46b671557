"""Where a model comes from: an exported artifact folder, or the MLflow model registry.

``models:/lead-scorer@champion`` names whatever version the alias points to *now*, and
``models:/lead-scorer/3`` one version; both are downloaded (by MLflow) into a temporary folder
that lives as long as it is used (MLflow is imported only then: a local folder is scored
without it). The tracking store is the one every verb uses
(``MLFLOW_TRACKING_URI``, default ``sqlite:///mlflow.db``), so the nightly job and the API follow
the alias that ``leadscore promote`` moves.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leadscore.errors import InputError
from leadscore.redaction import redact

if TYPE_CHECKING:
    from mlflow import MlflowClient

PREFIX = "models:/"
PROGRESS_BAR_ENV = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))")


@dataclass(frozen=True)
class ModelSource:
    """A model as given (``uri``) and the local artifact folder it is read from."""

    uri: str
    path: Path
    version: str | None = None  # the registered version, for a registry URI

    def describe(self) -> str:
        """The source for a summary or a log line."""
        return self.uri if self.version is None else f"{self.uri} (version {self.version})"


def is_registry_uri(model: str | Path) -> bool:
    return str(model).startswith(PREFIX)


def alias_of(model: str) -> str | None:
    """The alias a registry URI names (``champion`` of ``models:/lead-scorer@champion``)."""
    match = _URI.match(model)
    return match["alias"] if match else None


@contextmanager
def model_source(model: str | Path) -> Iterator[ModelSource]:
    """The model's local folder for the duration of the block (a registry download is removed
    afterwards). A missing folder is the loader's to report."""
    if not is_registry_uri(model):
        yield ModelSource(str(model), Path(model))
        return
    from leadscore.tracking import store_errors

    with tempfile.TemporaryDirectory(prefix="leadscore-model-") as folder:
        with store_errors():
            source = download(str(model), Path(folder))
        yield source


def download(uri: str, folder: Path) -> ModelSource:
    """Resolve a registry URI to its version now and download that version into ``folder``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    name, version = registered_version(uri)
    if not sys.stderr.isatty():  # MLflow's bar would write a line per update into a log file
        os.environ.setdefault(PROGRESS_BAR_ENV, "false")
    try:
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{PREFIX}{name}/{version}", dst_path=str(folder)
        )
    except MlflowException as exc:
        raise InputError(f"{uri}: {redact(_first_line(exc.message))}") from exc
    return ModelSource(uri, Path(path), version)


def registered_version(uri: str) -> tuple[str, str]:
    """The registered model's name and the version a registry URI names now (an alias is
    looked up); the tracking store becomes MLflow's current one."""
    from mlflow.exceptions import MlflowException

    from leadscore.tracking import shown_tracking_uri

    match = _URI.fullmatch(uri)
    if match is None:
        raise InputError(f"{uri}: use models:/<name>@<alias> or models:/<name>/<version>")
    client = registry_client()
    store = shown_tracking_uri()
    name = match["name"]
    try:
        if match["alias"]:
            found = client.get_model_version_by_alias(name, match["alias"])
        else:
            found = client.get_model_version(name, match["version"])
    except MlflowException as exc:
        reason = redact(_first_line(exc.message))
        raise InputError(f"{uri}: {reason} (tracking store {store})") from exc
    return name, str(found.version)


def registry_client() -> MlflowClient:
    """A client of the tracking store (``MLFLOW_TRACKING_URI`` or the default), which also
    becomes MLflow's current one; a SQLite store that is not there is an error."""
    import mlflow

    from leadscore.tracking import tracking_uri

    store = tracking_uri()
    _check_store(store)
    mlflow.set_tracking_uri(store)
    return mlflow.MlflowClient()


def _check_store(store: str) -> None:
    """A SQLite store that is not there is an error, not a new empty store MLflow would create."""
    if store.startswith("sqlite:///"):
        database = Path(store.removeprefix("sqlite:///"))
        if not database.exists():
            raise InputError(f"{redact(store)}: no MLflow store there (set MLFLOW_TRACKING_URI)")


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "not found"
