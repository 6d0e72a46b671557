"""The FastAPI app of one loaded model: its routes, its request models and how a request scores.

``POST /score`` (one lead, a few milliseconds of CPU) runs on the event loop: scoring holds the
GIL nearly throughout, so FastAPI's thread pool would buy no parallelism, only two hand-offs
between threads per request. ``POST /score/batch`` (up to ``max_batch`` leads) stays a plain
``def`` in the pool, so a large batch does not hold up other requests. Personal fields are
accepted (their validity is a feature) but never logged.

Not ``from __future__ import annotations``: the routes' request types are made per model at run
time, and FastAPI reads them from the annotations, which must therefore be the classes.
"""

import hmac
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from leadscore.api.body_limit import BodyLimit
from leadscore.api.requests import RequestBase, RequestModels, request_models
from leadscore.errors import LeadscoreError
from leadscore.scoring.contract import InputColumn, input_schema
from leadscore.scoring.scorer import Scorer

API_KEYS_ENV = "LEADSCORE_API_KEYS"  # comma-separated; when set, every scoring call needs one
ADMIN_KEY_ENV = "LEADSCORE_ADMIN_KEY"  # when set, POST /admin/reload exists and needs it


@dataclass(frozen=True)
class Limits:
    """What one call may send."""

    max_batch: int = 1000  # leads per /score/batch call
    max_body_bytes: int = 1_000_000  # a larger body is refused before anything parses it


@dataclass(frozen=True)
class LoadedModel:
    """A model as the API serves it: the scorer and what ``GET /model`` says about it."""

    scorer: Scorer
    about: dict[str, Any] = field(default_factory=dict)


class Problem(BaseModel):
    detail: str


# Documented in the OpenAPI spec, so clients (and the spec-driven tests) know every answer.
UNAUTHORISED = {401: {"model": Problem, "description": "Missing or wrong X-API-Key"}}
TOO_LARGE = {413: {"model": Problem, "description": "Body or batch over the configured limit"}}
UNREADABLE = {400: {"model": Problem, "description": "Body that cannot be decoded"}}
NOT_RELOADED = {409: {"model": Problem, "description": "The new model could not be loaded"}}


class Score(BaseModel):
    lead_id: str
    as_of: datetime
    probability: float
    score: int
    model_probability: float | None  # null without a model (cold start: the fit score alone)
    fit_score: float
    fit_grade: str
    band: str
    reasons: str
    fit_rules: str
    model_version: str
    scored_at: datetime


def scoring_app(
    model: LoadedModel,
    limits: Limits,
    *,
    reload: Callable[[], Awaitable[dict[str, Any]]] | None = None,
) -> FastAPI:
    """The app for one model; API keys come from ``LEADSCORE_API_KEYS``. With ``reload`` and
    ``LEADSCORE_ADMIN_KEY`` set, ``POST /admin/reload`` loads the model anew (see
    :mod:`leadscore.api.reload`)."""
    scorer = model.scorer
    models = request_models(scorer.schema)
    ScoreRequest, BatchRequest = models.score, models.batch
    app = FastAPI(title="leadscore", version=scorer.model_version)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    guarded: dict[str, Any] = {"dependencies": [Depends(_key_check(API_KEYS_ENV, "X-API-Key"))]}
    guarded["responses"] = UNAUTHORISED
    scoring = guarded | {"responses": UNAUTHORISED | TOO_LARGE | UNREADABLE}
    about = model.about | {"input_schema": input_schema(scorer.schema)}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model_version": scorer.model_version}

    @app.get("/model", **guarded)
    def model_info() -> dict[str, Any]:
        return about

    @app.post("/score", response_model=Score, **scoring)
    async def score_one(request: ScoreRequest) -> dict[str, Any]:  # type: ignore[valid-type]
        return _score(scorer, models, [request])[0]

    @app.post("/score/batch", response_model=list[Score], **scoring)
    def score_batch(request: BatchRequest) -> list[dict[str, Any]]:  # type: ignore[valid-type]
        leads = request.leads  # type: ignore[attr-defined]
        if len(leads) > limits.max_batch:
            raise HTTPException(413, f"at most {limits.max_batch} leads per batch request")
        if len({r.lead.value("lead_id") for r in leads}) != len(leads):
            message = "lead_id must be unique within a batch"
            raise RequestValidationError(
                [{"loc": ("body", "leads"), "msg": message, "type": "value_error"}]
            )
        return _score(scorer, models, leads) if leads else []

    if reload is not None and os.environ.get(ADMIN_KEY_ENV):
        admin: dict[str, Any] = {
            "dependencies": [Depends(_key_check(ADMIN_KEY_ENV, "X-Admin-Key"))],
            "responses": UNAUTHORISED | NOT_RELOADED,
        }

        @app.post("/admin/reload", **admin)
        async def reload_model() -> dict[str, Any]:
            try:
                return await reload()
            except LeadscoreError as exc:
                raise HTTPException(409, f"{exc}; the model served is unchanged") from exc

    return app


def _key_check(variable: str, header_name: str) -> Callable[..., Awaitable[None]]:
    """The dependency that checks a header against the comma-separated keys of ``variable``
    (when set)."""
    keys = [k for k in os.environ.get(variable, "").split(",") if k]
    header = APIKeyHeader(name=header_name, auto_error=False)

    async def authorised(key: str | None = Security(header)) -> None:
        """A constant-time comparison: run on the event loop, not handed to a worker thread."""
        if keys and not any(hmac.compare_digest(key or "", k) for k in keys):
            raise HTTPException(status_code=401, detail=f"missing or wrong {header_name}")

    return authorised


def _score(
    scorer: Scorer, models: RequestModels, requests: list[RequestBase]
) -> list[dict[str, Any]]:
    """Score through the same ``Scorer.featurize`` and ``Scorer.score`` as batch and pyfunc, so
    all give one number; the request goes straight into numpy columns (a pandas frame per request
    cost most of a request's time)."""
    now = datetime.now(UTC)
    moments = [r.as_of or now for r in requests]
    leads = {
        column.name: _column([getattr(r.lead, f) for r in requests], column)
        for f, column in models.lead.fields
    }
    owned = [
        (lead_id, e)
        for lead_id, r in zip(leads["lead_id"], requests, strict=True)
        for e in r.events
    ]
    events = {
        column.name: _column([getattr(e, f) for _, e in owned], column)
        for f, column in models.event.fields
    }
    events["lead_id"] = np.array([lead_id for lead_id, _ in owned], dtype=object)
    scores = scorer.score(scorer.featurize(leads, events, _moments(moments)))
    fields = list(scores)
    rows = zip(*(scores[f].tolist() for f in fields), strict=True)
    return [
        {
            "lead_id": lead_id,
            "as_of": moment,
            **dict(zip(fields, row, strict=True)),
            "model_version": scorer.model_version,
            "scored_at": now,
        }
        for lead_id, moment, row in zip(leads["lead_id"], moments, rows, strict=True)
    ]


def _column(values: list[Any], column: InputColumn) -> np.ndarray:
    """One column of a request as the features read it."""
    if column.kind == "timestamp":
        return _moments(values)
    if column.kind == "number":
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.array(values, dtype=object)


def _moments(moments: Sequence[datetime | None]) -> np.ndarray:
    """UTC datetimes as naive UTC ``datetime64[us]``, the features' time columns."""
    return np.array(
        [None if m is None else m.replace(tzinfo=None) for m in moments], dtype="datetime64[us]"
    )
