"""The exported artifact: one MLflow pyfunc directory that holds everything needed to score.

``models/lead_scorer/`` is loadable three ways — :func:`load_scorer`, ``mlflow.pyfunc.load_model``
and ``mlflow models serve`` — and all three build the same :class:`~leadscore.scorer.Scorer` from
the same plain files, so they give the same scores.
"""

from __future__ import annotations

import hashlib
import subprocess
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import mlflow
import pandas as pd
import yaml

from leadscore.config import SchemaConfig
from leadscore.io import read_json
from leadscore.schema import (
    LABEL_ROLES,
    PERSONAL_ROLES,
    REQUIRED_EVENT_ROLES,
    REQUIRED_LEAD_ROLES,
    TIMESTAMP_ROLES,
)
from leadscore.scorer import Scorer
from leadscore.validation import parse_timestamps

BUNDLE = "bundle"
METADATA_FILE = "metadata.json"
INPUT_SCHEMA_FILE = "input_schema.json"
LIBRARIES: tuple[str, ...] = (
    "leadscore", "lightgbm", "lleaves", "llvmlite", "pandas", "numpy", "scikit-learn", "mlflow",
)  # fmt: skip


class LeadScorerModel(mlflow.pyfunc.PythonModel):
    """pyfunc face of the scorer: a frame of canonical lead rows in, the scores table out.

    An optional ``as_of`` column gives each row's scoring moment (default: now). Engagement comes
    from pre-aggregated columns only; event logs go through ``leadscore score``.
    """

    def load_context(self, context) -> None:
        self.scorer = load_bundle(Path(context.artifacts[BUNDLE]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        leads = model_input.copy()
        if "created_at" in leads:  # a table without timestamps scores without timing features
            leads["created_at"] = parse_timestamps(leads["created_at"])
        as_of = (
            parse_timestamps(leads.pop("as_of")) if "as_of" in leads else pd.Timestamp.now(tz="UTC")
        )
        return self.scorer.score(leads, None, as_of)


def load_scorer(path: str | Path) -> Scorer:
    """Load the scorer from an exported artifact directory (``models/lead_scorer``).

    The bundle's place inside the artifact is read from its ``MLmodel`` file, where MLflow
    recorded it, so this loads exactly the files ``mlflow.pyfunc.load_model`` would.
    """
    return load_bundle(bundle_path(path))


def bundle_path(path: str | Path) -> Path:
    """Where MLflow put the scorer's files inside an exported artifact."""
    mlmodel = yaml.safe_load((Path(path) / "MLmodel").read_text())
    return Path(path) / mlmodel["flavors"]["python_function"]["artifacts"][BUNDLE]["path"]


def load_bundle(path: Path) -> Scorer:
    """Build the scorer from the artifact's files, warning when library versions differ."""
    metadata = read_json(path / METADATA_FILE)
    drift = {
        lib: (want, library_versions().get(lib))
        for lib, want in metadata["libraries"].items()
        if library_versions().get(lib) != want
    }
    if drift:
        warnings.warn(
            f"{path} was trained with other library versions than these: "
            + ", ".join(f"{lib} {want} (here {have})" for lib, (want, have) in drift.items())
            + "; scores may differ slightly — retrain or align the environment",
            stacklevel=2,
        )
    return Scorer.load(path, model_version=metadata["model_version"])


def input_schema(schema: SchemaConfig) -> dict[str, list[dict]]:
    """The columns the artifact reads, under the user's names, for people and tools feeding it.

    Timestamps are ISO-8601 text or datetimes (naive ones are taken as UTC); everything else is
    text except pre-aggregated counts. Label columns are not inputs; personal columns are read
    (their validity is a signal) but never written anywhere.
    """

    def columns(mapping: dict[str, str], required: tuple[str, ...]) -> list[dict]:
        return [
            {
                "column": column,
                "role": role,
                "type": "timestamp" if role in TIMESTAMP_ROLES else "string",
                "required": role in required,
                "personal": role in PERSONAL_ROLES,
            }
            for role, column in mapping.items()
            if role not in LABEL_ROLES
        ]

    leads = columns(schema.leads, REQUIRED_LEAD_ROLES) + [
        {"column": c, "role": "engagement_count", "type": "number", "required": True,
         "personal": False}
        for c in schema.engagement_columns
    ]  # fmt: skip
    return {"leads": leads, "events": columns(schema.events, REQUIRED_EVENT_ROLES)}


def library_versions() -> dict[str, str | None]:
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = version(lib)
        except PackageNotFoundError:
            versions[lib] = None
    return versions


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
