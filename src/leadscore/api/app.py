"""The FastAPI app of one loaded model: its routes, its request models and how a request scores.

``POST /score`` (one lead, a few milliseconds of CPU) runs on the event loop: scoring holds the
GIL nearly throughout, so FastAPI's thread pool would buy no parallelism, only two hand-offs
between threads per request. ``POST /score/batch`` (up to ``max_batch`` leads) stays a plain
``def`` in the pool, so a large batch does not hold up other requests. Personal fields are
accepted (their validity is a feature) but never logged, and a refused request's answer names
the field and the rule, never the value sent.

Not ``from __future__ import annotations``: the routes' request types are made per model at run
time, and FastAPI reads them from the annotations, which must therefore be the classes.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from leadscore.api.guard import (
    ADMIN_KEY_HEADER,
    API_KEY_HEADER,
    Guard,
    Keys,
    authorised,
)
from leadscore.api.requests import RequestBase, RequestModels, lead_ids, request_models
from leadscore.errors import LeadscoreError
from leadscore.scoring.contract import InputColumn, input_schema
from leadscore.scoring.scorer import Scorer


@dataclass(frozen=True)
class Limits:
    """What one call may send."""

    max_batch: int = 1000  # leads per /score/batch call
    max_body_bytes: int = 1_000_000  # counted as it streams in: refused at the limit
    body_timeout_s: float = 10.0  # a body not complete this long after the request began: 408


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
SLOW = {408: {"model": Problem, "description": "Body not complete in time"}}
BUSY = {503: {"model": Problem, "description": "Too many requests in progress: retry later"}}
NOT_RELOADED = {409: {"model": Problem, "description": "The new model could not be loaded"}}
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Not serving (shutting down)"}
}


@dataclass(frozen=True)
class Hooks:
    """What the server around an app wants to know from it."""

    reload: Callable[[], Awaitable[dict[str, Any]]] | None = None  # POST /admin/reload
    scored: Callable[[Sequence[str]], None] | None = None  # the bands of each scored call
    ready: Callable[[], bool] = lambda: True  # GET /health/ready


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


def scoring_app(model: LoadedModel, limits: Limits, *, keys: Keys, hooks: Hooks) -> FastAPI:
    """The app for one model. Calls need one of ``keys`` (see :mod:`leadscore.api.guard`); with
    ``hooks.reload`` and an admin key, ``POST /admin/reload`` loads the model anew (see
    :mod:`leadscore.api.reload`)."""
    scorer = model.scorer
    models = request_models(scorer.schema)
    ScoreRequest, BatchRequest = models.score, models.batch
    app = FastAPI(
        title="leadscore", version=scorer.model_version, max_body_size=limits.max_body_bytes
    )
    app.add_middleware(Guard, keys=keys, body_timeout=limits.body_timeout_s)
    app.add_exception_handler(RequestValidationError, _refused)
    guarded: dict[str, Any] = {
        "dependencies": [Depends(_key_check(keys.api, API_KEY_HEADER))],
        "responses": UNAUTHORISED | BUSY,
    }
    scoring = guarded | {"responses": UNAUTHORISED | BUSY | TOO_LARGE | UNREADABLE | SLOW}
    about = model.about | {"input_schema": input_schema(scorer.schema)}
    count = hooks.scored or (lambda bands: None)

    _health_routes(app, scorer.model_version, hooks)

    @app.get("/model", **guarded)
    def model_info() -> dict[str, Any]:
        return about

    @app.post("/score", response_model=Score, **scoring)
    async def score_one(request: ScoreRequest) -> dict[str, Any]:  # type: ignore[valid-type]
        rows = _score(scorer, models, [request])
        count([r["band"] for r in rows])
        return rows[0]

    @app.post("/score/batch", response_model=list[Score], **scoring)
    def score_batch(request: BatchRequest) -> list[dict[str, Any]]:  # type: ignore[valid-type]
        leads = request.leads  # type: ignore[attr-defined]
        if len(leads) > limits.max_batch:
            raise HTTPException(413, f"at most {limits.max_batch} leads per batch request")
        if len(set(lead_ids([r.lead for r in leads]))) != len(leads):
            message = (
                "two leads of this batch are the same lead (equal in every schema.id_from column)"
                if scorer.schema.id_from
                else "lead_id must be unique within a batch"
            )
            raise RequestValidationError(
                [{"loc": ("body", "leads"), "msg": message, "type": "value_error"}]
            )
        rows = _score(scorer, models, leads) if leads else []
        count([r["band"] for r in rows])
        return rows

    if hooks.reload is not None and keys.admin:
        _admin_routes(app, hooks.reload, keys.admin)
    return app


def _health_routes(app: FastAPI, model_version: str, hooks: Hooks) -> None:
    """Open routes for load balancers and orchestrators: no key, no body."""

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model_version": model_version}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        """The process answers (restart it when this fails)."""
        return {"status": "live"}

    @app.get("/health/ready", responses=NOT_READY)
    async def ready() -> Any:
        """A model is loaded and the server takes requests (send it traffic when this is 200)."""
        if not hooks.ready():
            return JSONResponse({"detail": "not serving: shutting down"}, status_code=503)
        return {"status": "ready", "model_version": model_version}


def _admin_routes(
    app: FastAPI, reload: Callable[[], Awaitable[dict[str, Any]]], admin_keys: tuple[str, ...]
) -> None:
    """``POST /admin/reload`` behind an admin key: the model is loaded anew, or stays as it is."""
    admin: dict[str, Any] = {
        "dependencies": [Depends(_key_check(admin_keys, ADMIN_KEY_HEADER))],
        "responses": UNAUTHORISED | NOT_RELOADED,
    }

    @app.post("/admin/reload", **admin)
    async def reload_model() -> dict[str, Any]:
        try:
            return await reload()
        except LeadscoreError as exc:
            raise HTTPException(409, f"{exc}; the model served is unchanged") from exc


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each refused field and its rule, without the value sent: that may be a
    personal one, and a value JSON cannot hold (NaN) made the answer itself fail."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


def _key_check(keys: tuple[str, ...], header_name: str) -> Callable[..., Awaitable[None]]:
    """The dependency that declares the key header in the OpenAPI spec and checks it (the
    :class:`~leadscore.api.guard.Guard` has checked it already, before the body was read)."""
    header = APIKeyHeader(name=header_name, auto_error=False)

    async def checked(key: str | None = Security(header)) -> None:
        if keys and not authorised(key, keys):
            raise HTTPException(status_code=401, detail=f"missing or wrong {header_name}")

    return checked


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
    leads["lead_id"] = np.array(lead_ids([r.lead for r in requests]), dtype=object)
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
