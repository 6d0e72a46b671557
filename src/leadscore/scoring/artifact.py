"""The exported artifact: one MLflow pyfunc directory that holds everything needed to score.

``models/lead_scorer/`` is loadable three ways — :func:`load_scorer`,
``mlflow.pyfunc.load_model`` and ``mlflow models serve`` — and all three build the same
:class:`~leadscore.scoring.scorer.Scorer` from the same plain files, so they give the same
scores. What goes into it is :mod:`leadscore.scoring.packaging`'s business.
"""

from __future__ import annotations

import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import yaml
from mlflow.pyfunc import PythonModel

from leadscore.data.files import read_json
from leadscore.data.timestamps import parse_timestamps
from leadscore.scoring.bundle import METADATA_FILE
from leadscore.scoring.scorer import Scorer

BUNDLE = "bundle"  # the bundle's name among the artifact's MLflow artifacts
LIBRARIES: tuple[str, ...] = (
    "leadscore",
    "lightgbm",
    "lleaves",
    "llvmlite",
    "pandas",
    "numpy",
    "scikit-learn",
    "mlflow",
)


class PyfuncScorer(PythonModel):
    """pyfunc face of the scorer: a frame of canonical lead rows in, the scores table out.

    An optional ``as_of`` column gives each row's scoring moment (default: now). Engagement comes
    from pre-aggregated columns only; event logs go through ``leadscore score``.
    """

    def load_context(self, context) -> None:
        self.scorer = load_bundle(Path(context.artifacts[BUNDLE]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        leads = model_input.copy()
        schema = self.scorer.schema
        if "created_at" in leads:  # a table without timestamps scores without timing features
            column = schema.leads.get("created_at", "created_at")
            spec = schema.dates.of("leads", column)
            leads["created_at"] = parse_timestamps(leads["created_at"], spec, column=column)
        now = pd.Timestamp.now(tz="UTC")
        as_of = parse_timestamps(leads.pop("as_of")) if "as_of" in leads else now
        return self.scorer.scores_table(self.scorer.featurize(leads, None, as_of))


def load_scorer(artifact: str | Path) -> Scorer:
    """Load the scorer from an exported artifact directory (``models/lead_scorer``).

    The bundle's place inside the artifact is read from its ``MLmodel`` file, where MLflow
    recorded it, so this loads exactly the files ``mlflow.pyfunc.load_model`` would.
    """
    return load_bundle(bundle_path(artifact))


def bundle_path(artifact: str | Path) -> Path:
    """Where MLflow put the scorer's bundle inside an exported artifact."""
    mlmodel = yaml.safe_load((Path(artifact) / "MLmodel").read_text())
    return Path(artifact) / mlmodel["flavors"]["python_function"]["artifacts"][BUNDLE]["path"]


def load_bundle(bundle: Path) -> Scorer:
    """Build the scorer from an artifact's bundle, warning when library versions differ."""
    metadata = read_json(bundle / METADATA_FILE)
    here = library_versions()
    mismatched = {
        lib: (wanted, here.get(lib))
        for lib, wanted in metadata["libraries"].items()
        if here.get(lib) != wanted
    }
    if mismatched:
        warnings.warn(
            f"{bundle} was trained with other library versions than these: "
            + ", ".join(f"{lib} {want} (here {have})" for lib, (want, have) in mismatched.items())
            + "; scores may differ slightly — retrain or align the environment",
            stacklevel=2,
        )
    return Scorer.load(bundle, model_version=metadata["model_version"])


def library_versions() -> dict[str, str | None]:
    """The installed version of each library the scores depend on (None: not installed)."""
    versions: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = version(lib)
        except PackageNotFoundError:
            versions[lib] = None
    return versions
