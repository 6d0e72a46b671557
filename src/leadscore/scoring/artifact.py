"""The exported artifact: one MLflow pyfunc directory that holds everything needed to score.

``models/lead_scorer/`` is loadable three ways — :func:`load_scorer`,
``mlflow.pyfunc.load_model`` and ``mlflow models serve`` — and all three build the same
:class:`~leadscore.scoring.scorer.Scorer` from the same plain files, so they give the same
scores. What goes into it is :mod:`leadscore.scoring.packaging`'s business. Loading does not
import MLflow (seconds of a nightly run); its pyfunc face is
:class:`leadscore.scoring.pyfunc_scorer.PyfuncScorer`.
"""

from __future__ import annotations

import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import lightgbm as lgb
import yaml

from leadscore.data.files import file_sha256, read_json
from leadscore.errors import InputError, LeadscoreError
from leadscore.scoring.bundle import METADATA_FILE
from leadscore.scoring.scorer import Scorer
from leadscore.scoring.signing import check_signature

BUNDLE = "bundle"  # the bundle's name among the artifact's MLflow artifacts
LIBRARIES: tuple[str, ...] = (
    "leadscore",
    "lightgbm",
    "lleaves",
    "llvmlite",
    "pandas",
    "numpy",
    "scikit-learn",
    "mlflow-skinny",
)


def __getattr__(name: str) -> object:
    """``PyfuncScorer`` for artifacts exported before it moved: their ``pyfunc_model.py``
    imports it from here."""
    if name == "PyfuncScorer":
        from leadscore.scoring.pyfunc_scorer import PyfuncScorer

        return PyfuncScorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_scorer(artifact: str | Path, *, compiled: bool = True) -> Scorer:
    """Load the scorer from an exported artifact directory (``models/lead_scorer``);
    ``compiled`` as for :meth:`Scorer.load`."""
    return load_artifact(artifact, compiled=compiled)[0]


def load_artifact(artifact: str | Path, *, compiled: bool = True) -> tuple[Scorer, dict]:
    """The scorer and the metadata of an exported artifact directory.

    The bundle's place inside the artifact is read from its ``MLmodel`` file, where MLflow
    recorded it, so this loads exactly the files ``mlflow.pyfunc.load_model`` would. A folder
    that is not an artifact, or that cannot be read, is an :class:`InputError` (exit code 3).
    """
    if not (Path(artifact) / "MLmodel").is_file():
        raise InputError(f"{artifact}: no exported model there (no MLmodel file)")
    try:
        bundle = bundle_path(artifact)
        metadata = read_json(bundle / METADATA_FILE)
        return load_bundle(bundle, compiled=compiled), metadata
    except LeadscoreError:
        raise
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        yaml.YAMLError,
        lgb.basic.LightGBMError,
    ) as exc:
        reason = " ".join(str(exc).split())
        raise InputError(f"{artifact}: the model cannot be loaded ({reason})") from exc


def bundle_path(artifact: str | Path) -> Path:
    """Where MLflow put the scorer's bundle inside an exported artifact."""
    mlmodel = yaml.safe_load((Path(artifact) / "MLmodel").read_text())
    return Path(artifact) / mlmodel["flavors"]["python_function"]["artifacts"][BUNDLE]["path"]


def load_bundle(bundle: Path, *, compiled: bool = True) -> Scorer:
    """Build the scorer from an artifact's bundle, warning when library versions differ.

    Each file must be the one exported (its SHA-256 as recorded in the metadata): a model.txt
    cut short would otherwise reach LightGBM's parser, which can abort the whole process.
    """
    check_signature(bundle)  # before anything reads what metadata.json says
    metadata = read_json(bundle / METADATA_FILE)
    check_files(bundle, metadata.get("files"))
    here = library_versions()
    mismatched = {
        lib: (wanted, here[lib])
        for lib, wanted in metadata["libraries"].items()
        if lib in here and here[lib] != wanted
    }
    if mismatched:
        warnings.warn(
            f"{bundle} was trained with other library versions than these: "
            + ", ".join(f"{lib} {want} (here {have})" for lib, (want, have) in mismatched.items())
            + "; scores may differ slightly — retrain or align the environment",
            stacklevel=2,
        )
    return Scorer.load(bundle, model_version=metadata["model_version"], compiled=compiled)


def check_files(bundle: Path, recorded: dict[str, str] | None) -> None:
    """Raise :class:`InputError` unless every file recorded at export is there, unchanged.

    A list that is missing is an error too, never a reason to load unchecked: the bundle holds
    native code (the compiled model), and deleting the list must not be a way to run a planted
    one. An artifact exported before the list existed is exported again.
    """
    if not isinstance(recorded, dict) or not recorded:
        raise InputError(
            f"{bundle}: {METADATA_FILE} has no list of the files' SHA-256, so the model cannot "
            "be trusted; export it again (`dvc repro`, or `leadscore export`)"
        )
    for name, digest in recorded.items():
        path = bundle / name
        if not path.is_file():
            raise InputError(f"{bundle}: {name} is missing from the exported model")
        if file_sha256(path) != digest:
            raise InputError(
                f"{bundle}: {name} is not the file that was exported (its SHA-256 differs "
                "from the one recorded then): the copy is damaged or was changed; export or "
                "download the model again"
            )


def library_versions() -> dict[str, str | None]:
    """The installed version of each library the scores depend on (None: not installed)."""
    versions: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = version(lib)
        except PackageNotFoundError:
            versions[lib] = None
    return versions
