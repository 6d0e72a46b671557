"""The online scoring API: one lead (with its recent events) in, its score and reasons out.

FastAPI on uvicorn. :func:`create_app` is the app factory (``leadscore serve``, ``uvicorn
--factory leadscore.api:create_app``, gunicorn); :mod:`~leadscore.api.app` is the app of one
model, :mod:`~leadscore.api.requests` its request models (generated from the artifact's input
contract) and :mod:`~leadscore.api.reload` switches to a newly promoted model without dropping
a request.
"""

from leadscore.api.reload import create_app

__all__ = ["create_app"]
