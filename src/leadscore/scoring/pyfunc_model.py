"""The MLflow "models from code" entry point of the artifact.

MLflow stores this file in ``models/lead_scorer`` instead of a cloudpickle of the model object, so
the artifact holds only plain files (this code, JSON, YAML and LightGBM's text model).
"""

import mlflow

from leadscore.scoring.pyfunc_scorer import PyfuncScorer

mlflow.models.set_model(PyfuncScorer())
