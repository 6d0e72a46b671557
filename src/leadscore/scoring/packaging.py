"""What ``export`` puts into the artifact: compiled trees, metadata, the training profile for
drift checks, the input schema, and the MLflow pyfunc folder around the bundle."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
from pathlib import Path

import mlflow
import pandas as pd

from leadscore.config import Params, SchemaConfig
from leadscore.data.schema import (
    LABEL_ROLES,
    PERSONAL_ROLES,
    REQUIRED_EVENT_ROLES,
    REQUIRED_LEAD_ROLES,
    TIMESTAMP_ROLES,
)
from leadscore.modeling.booster import gain_importance
from leadscore.scoring.artifact import BUNDLE, library_versions
from leadscore.scoring.bundle import BOOSTER_FILE, COMPILED_DIR
from leadscore.scoring.compiled import compile_booster
from leadscore.scoring.drift import profile
from leadscore.scoring.scorer import Scorer

PYFUNC_MODULE = "leadscore.scoring.pyfunc_model"  # the artifact's entry point
CHECK_ROWS = 500  # held-out rows the compiled trees must reproduce the Booster on at each load
DRIFT_FEATURES = 10  # the features by gain whose distribution nightly runs compare
NOT_COMPILED = "nothing compiled: no model was trained (cold start)"


def compile_bundle(bundle: Path, features: pd.DataFrame) -> dict:
    """Compile the bundle's booster into it (see :mod:`leadscore.scoring.compiled`), with
    held-out rows (training rows if there are too few) for every later load to check it on.
    Without a booster (cold start) there is nothing to compile."""
    shutil.rmtree(bundle / COMPILED_DIR, ignore_errors=True)  # a stale one is not loaded
    scorer = Scorer.load(bundle)
    if scorer.booster is None:  # the folder is a declared output: it says why it is empty
        (bundle / COMPILED_DIR).mkdir()
        (bundle / COMPILED_DIR / "README.txt").write_text(NOT_COMPILED + "\n")
        return {"skipped": NOT_COMPILED}
    rows = pd.concat([features[features["split"] == "test"], features]).head(CHECK_ROWS)
    sample = scorer.encoder.matrix(rows)
    return compile_booster(bundle / BOOSTER_FILE, sample, out_dir=bundle / COMPILED_DIR)


def drift_reference(bundle: Path, features: pd.DataFrame) -> dict:
    """Profile of the score and the most important features on the training window (of the
    score alone without a model)."""
    scorer = Scorer.load(bundle)
    train = features[features["split"] == "train"].reset_index(drop=True)
    probability = scorer.score(train, explain_bands=())["probability"]
    top = (
        pd.DataFrame({"feature": []}) if scorer.booster is None else gain_importance(scorer.booster)
    )
    columns = top["feature"].head(DRIFT_FEATURES).tolist()
    return profile(train.assign(probability=probability), ["probability", *columns])


def metadata(
    params: Params, *, run_id: str, fingerprint: str, metrics: dict, compiled: dict
) -> dict:
    """What the artifact says about itself: version, provenance, settings and held-out figures."""
    return {
        "model_version": f"{run_id[:12]}-{fingerprint[:8]}",
        "mlflow_run_id": run_id,
        "data_fingerprint": fingerprint,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "params": params.model_dump(by_alias=True, mode="json"),
        "metrics": metrics,
        "compiled": compiled,
    }


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

    counts = [
        {"column": c, "role": "engagement_count", "type": "number", "required": True}
        | {"personal": False}
        for c in schema.engagement_columns
    ]
    leads = columns(schema.leads, REQUIRED_LEAD_ROLES) + counts
    return {"leads": leads, "events": columns(schema.events, REQUIRED_EVENT_ROLES)}


def pyfunc_code() -> str:
    """The file of MLflow's models-from-code entry point (found, not imported: importing it
    registers the model)."""
    spec = importlib.util.find_spec(PYFUNC_MODULE)
    assert spec is not None and spec.origin is not None
    return spec.origin


def pyfunc_spec(bundle: Path, libraries: dict[str, str | None]) -> dict:
    """The arguments of ``mlflow.pyfunc.save_model`` / ``log_model`` for the artifact: models
    from code (no pickle), the bundle as its one artifact, the libraries pinned."""
    requirements = [f"{lib}=={v}" for lib, v in libraries.items() if v and lib != "leadscore"]
    return {
        "python_model": pyfunc_code(),
        "artifacts": {BUNDLE: str(bundle)},
        "pip_requirements": requirements,
    }


def save_artifact(spec: dict, out_dir: Path) -> None:
    """Write the artifact folder afresh (nothing of an earlier export is left in it)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    mlflow.pyfunc.save_model(str(out_dir), **spec)


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit() -> str:
    """The checkout's commit, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
