"""What ``export`` puts into the artifact: compiled trees, metadata, the training profile for
drift checks, the input schema, and the MLflow pyfunc folder around the bundle."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from importlib.metadata import requires as metadata_requires
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from packaging.requirements import Requirement

import leadscore
from leadscore.config import Params, SchemaConfig
from leadscore.data.files import file_sha256, read_json
from leadscore.modeling.booster import gain_importance
from leadscore.scoring import contract, signature
from leadscore.scoring.artifact import BUNDLE, library_versions
from leadscore.scoring.bundle import (
    BOOSTER_FILE,
    COMPILED_DIR,
    FEATURES_FILE,
    METADATA_FILE,
    SIGNATURE_FILE,
)
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
    params: Params,
    *,
    run_id: str,
    fingerprint: str,
    metrics: dict,
    compiled: dict,
    files: dict[str, str],
) -> dict:
    """What the artifact says about itself: version, provenance, settings, held-out figures and
    the SHA-256 of each of its bundle's files (see :func:`bundle_checksums`)."""
    return {
        "model_version": f"{run_id[:12]}-{fingerprint[:8]}",
        "mlflow_run_id": run_id,
        "data_fingerprint": fingerprint,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "params": params.model_dump(by_alias=True, mode="json"),
        "metrics": metrics,
        "compiled": compiled,
        "files": files,
    }


def bundle_checksums(bundle: Path) -> dict[str, str]:
    """The SHA-256 of every file of the bundle but its metadata, by path inside the bundle:
    every load checks them (see :func:`leadscore.scoring.artifact.load_bundle`), so a damaged
    or altered file is refused before a library reads it."""
    return {
        path.relative_to(bundle).as_posix(): file_sha256(path)
        for path in sorted(bundle.rglob("*"))
        if path.is_file() and path.name not in (METADATA_FILE, SIGNATURE_FILE)
    }


def bundle_schema(bundle: Path) -> SchemaConfig:
    """The schema the bundle's model was trained with (audited columns left out)."""
    return SchemaConfig.model_validate(read_json(bundle / FEATURES_FILE)["schema"])


def input_schema(bundle: Path) -> dict[str, list[dict]]:
    """The columns the model reads, under the user's names (see
    :mod:`leadscore.scoring.contract`): those of the schema it was trained with."""
    return contract.input_schema(bundle_schema(bundle))


def input_example(
    bundle: Path, features: pd.DataFrame, leads: pd.DataFrame, events: pd.DataFrame | None
) -> pd.DataFrame:
    """A held-out lead as the pyfunc takes it (see :func:`signature.input_example`)."""
    return signature.input_example(bundle_schema(bundle), features, leads, events)


def pyfunc_code() -> str:
    """The file of MLflow's models-from-code entry point (found, not imported: importing it
    registers the model)."""
    spec = importlib.util.find_spec(PYFUNC_MODULE)
    assert spec is not None and spec.origin is not None
    return spec.origin


def package_code() -> str:
    """The folder of the leadscore package, which the artifact carries as its code."""
    return str(Path(leadscore.__file__).parent)


def requirements() -> list[str]:
    """What the artifact needs installed beside its own copy of leadscore: leadscore's own
    requirements (not those of an extra such as training or the API), each pinned to the version
    installed here, the one the model was trained and checked with."""
    pinned = []
    for text in metadata_requires("leadscore") or []:
        requirement = Requirement(text)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker is not None else ""
        pinned.append(f"{requirement.name}{extras}=={version(requirement.name)}{marker}")
    return pinned


def pyfunc_spec(bundle: Path, *, example: pd.DataFrame | None = None) -> dict:
    """The arguments of ``mlflow.pyfunc.save_model`` / ``log_model`` for the artifact: models
    from code (no pickle) with the leadscore package as its code, the bundle as its one artifact,
    the libraries pinned, the signature and the input example in the user's column names."""
    spec = {
        "python_model": pyfunc_code(),
        "artifacts": {BUNDLE: str(bundle)},
        "code_paths": [package_code()],
        "pip_requirements": requirements(),
        "signature": signature.model_signature(bundle_schema(bundle)),
    }
    return spec if example is None else spec | {"input_example": example}


def save_artifact(spec: dict, out_dir: Path) -> None:
    """Write the artifact folder afresh (nothing of an earlier export is left in it)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    mlflow.pyfunc.save_model(str(out_dir), **spec)


def git_commit() -> str:
    """The checkout's commit, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
