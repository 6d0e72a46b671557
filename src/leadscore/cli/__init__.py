"""The ``leadscore`` command: one verb per pipeline stage (:mod:`leadscore.cli.pipeline`), and
the verbs that use a trained model (:mod:`leadscore.cli.operations`), and ``monitor``
(:mod:`leadscore.cli.monitoring`).

Parameters come from ``params.yaml`` (loaded once, in the verb); paths come from the command
line, as ``dvc.yaml`` writes them. Errors a user can act on print one clear line and exit with
the code of their kind (see :mod:`leadscore.errors`).
"""

from leadscore.cli import monitoring, onboarding, operations, pipeline
from leadscore.cli.app import app

__all__ = ["app", "monitoring", "onboarding", "operations", "pipeline"]
