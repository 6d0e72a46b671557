"""The artifact's MLflow pyfunc face: what ``mlflow.pyfunc.load_model`` and ``mlflow models
serve`` run. It lives apart from :mod:`leadscore.scoring.artifact` so that loading an artifact
for a nightly run or the API does not import MLflow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

from leadscore.errors import LeadscoreError
from leadscore.scoring.artifact import BUNDLE, load_bundle
from leadscore.scoring.inputs import read_rows


class PyfuncScorer(PythonModel):
    """pyfunc face of the scorer: lead rows in the user's column names in, the scores table out.

    An optional ``as_of`` column gives each row's scoring moment (default: now), an optional
    ``events`` column each lead's events (see :func:`leadscore.scoring.inputs.read_rows`). A row
    that batch scoring would quarantine is refused (MLflow answers 400), with its reason.
    """

    def load_context(self, context) -> None:
        self.scorer = load_bundle(Path(context.artifacts[BUNDLE]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        try:
            rows = read_rows(model_input, self.scorer.schema, now=pd.Timestamp.now(tz="UTC"))
        except LeadscoreError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from exc
        return self.scorer.scores_table(self.scorer.featurize(rows.leads, rows.events, rows.as_of))
