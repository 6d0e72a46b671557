"""The online scoring API: one lead (with its recent events) in, its score and reasons out.

FastAPI on uvicorn. The model is loaded once at start-up. ``POST /score`` (one lead, a few
milliseconds of CPU) runs on the event loop: scoring holds the GIL nearly throughout, so FastAPI's
thread pool would buy no parallelism, only two hand-offs between threads per request (it
validates a plain ``def`` endpoint's answer in the pool too). ``POST /score/batch`` (up to
``max_batch`` leads) stays a plain ``def`` in the pool, so a large batch does not hold up other
requests. Request
models are generated from the data contract, so a wrong type is a 422 that names the field.
Personal fields are accepted (their validity is a feature) but never logged.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    model_validator,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadscore.config import EVENT_ROLES, LEAD_ROLES
from leadscore.data.files import read_json
from leadscore.data.schema import LABEL_ROLES
from leadscore.scoring.artifact import bundle_path, load_scorer
from leadscore.scoring.bundle import INPUT_SCHEMA_FILE, METADATA_FILE
from leadscore.scoring.scorer import Scorer

API_KEYS_ENV = "LEADSCORE_API_KEYS"  # comma-separated; when set, every scoring call needs one
_TEXT_ROLES = [r for r in LEAD_ROLES if r not in ("lead_id", "created_at", *LABEL_ROLES)]


def _utc(moment: datetime) -> datetime:
    """Naive times are taken as UTC, as the batch path reads them."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(value: object) -> object:
    """Only ISO-8601 text is a time here, as the spec says; pydantic alone would take numbers."""
    if not isinstance(value, str | datetime):
        raise ValueError("a time must be ISO-8601 text, e.g. 2026-11-01T09:30:00Z")
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_text), AfterValidator(_utc)]


class LeadKeys(BaseModel):
    """What every lead of a request has; :data:`Lead` adds the contract's text roles."""

    model_config = ConfigDict(extra="forbid")
    lead_id: str = Field(min_length=1)
    created_at: UtcDatetime


class EventKeys(BaseModel):
    """What every event of a request has; :data:`Event` adds the optional roles."""

    model_config = ConfigDict(extra="forbid")
    ts: UtcDatetime
    event_type: str = Field(min_length=1)


_OPTIONAL_TEXT: Any = (str | None, None)
_EVENT_EXTRAS = [role for role in EVENT_ROLES if role not in ("lead_id", "ts", "event_type")]
if TYPE_CHECKING:  # the type checker sees the fixed fields; requests get every role
    Lead: TypeAlias = LeadKeys
    Event: TypeAlias = EventKeys
else:
    Lead = create_model("Lead", __base__=LeadKeys, **dict.fromkeys(_TEXT_ROLES, _OPTIONAL_TEXT))
    Event = create_model(
        "Event", __base__=EventKeys, **dict.fromkeys(_EVENT_EXTRAS, _OPTIONAL_TEXT)
    )


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead: Lead
    events: list[Event] = Field(default_factory=list)
    as_of: UtcDatetime | None = Field(None, description="Scoring moment; default: now (UTC).")

    @model_validator(mode="after")
    def _created_by_then(self) -> ScoreRequest:
        """A lead created after the scoring moment did not exist yet (batch quarantines it)."""
        if self.lead.created_at > (self.as_of or datetime.now(UTC)):
            raise ValueError("lead.created_at is after the scoring moment (as_of, default now)")
        return self


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    leads: list[ScoreRequest]


class Problem(BaseModel):
    detail: str


# Documented in the OpenAPI spec, so clients (and the spec-driven tests) know every answer.
UNAUTHORISED = {401: {"model": Problem, "description": "Missing or wrong X-API-Key"}}
TOO_LARGE = {413: {"model": Problem, "description": "Body or batch over the configured limit"}}
UNREADABLE = {400: {"model": Problem, "description": "Body that cannot be decoded"}}


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


def create_app(
    artifact: str | Path, *, max_batch: int = 1000, max_body_bytes: int = 1_000_000
) -> FastAPI:
    """The app for an exported artifact; API keys come from ``LEADSCORE_API_KEYS``."""
    scorer = load_scorer(artifact)
    metadata = read_json(bundle_path(artifact) / METADATA_FILE)
    about = {
        key: metadata[key]
        for key in ("model_version", "mlflow_run_id", "data_fingerprint", "git_commit")
    }
    about |= {"thresholds": scorer.thresholds, "metrics": metadata["metrics"]}
    about["input_schema"] = read_json(bundle_path(artifact) / INPUT_SCHEMA_FILE)
    app = FastAPI(title="leadscore", version=str(metadata["model_version"]))
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    guarded: dict[str, Any] = {"dependencies": [Depends(_key_check())]}
    guarded["responses"] = UNAUTHORISED
    scoring = guarded | {"responses": UNAUTHORISED | TOO_LARGE | UNREADABLE}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model_version": scorer.model_version}

    @app.get("/model", **guarded)
    def model_info() -> dict[str, Any]:
        return about

    @app.post("/score", response_model=Score, **scoring)
    async def score_one(request: ScoreRequest) -> dict[str, Any]:
        return _score(scorer, [request])[0]

    @app.post("/score/batch", response_model=list[Score], **scoring)
    def score_batch(request: BatchRequest) -> list[dict[str, Any]]:
        if len(request.leads) > max_batch:
            raise HTTPException(413, f"at most {max_batch} leads per batch request")
        if len({r.lead.lead_id for r in request.leads}) != len(request.leads):
            message = "lead_id must be unique within a batch"
            raise RequestValidationError(
                [{"loc": ("body", "leads"), "msg": message, "type": "value_error"}]
            )
        return _score(scorer, request.leads) if request.leads else []

    return app


def _key_check() -> Callable[..., Awaitable[None]]:
    """The dependency that checks ``X-API-Key`` against ``LEADSCORE_API_KEYS`` (when set)."""
    keys = [k for k in os.environ.get(API_KEYS_ENV, "").split(",") if k]
    header = APIKeyHeader(name="X-API-Key", auto_error=False)

    async def authorised(key: str | None = Security(header)) -> None:
        """A constant-time comparison: run on the event loop, not handed to a worker thread."""
        if keys and not any(hmac.compare_digest(key or "", k) for k in keys):
            raise HTTPException(status_code=401, detail="missing or wrong X-API-Key")

    return authorised


class BodyLimit:
    """413 for a body over ``max_bytes``, before anything parses it.

    A plain ASGI middleware: Starlette's ``@app.middleware("http")`` wraps every request in
    extra tasks and streams, which cost a noticeable share of a millisecond-scale request.
    Without ``Content-Length`` (chunked uploads) the body is read first and then handed on.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = dict(scope["headers"]).get(b"content-length")
        if size is not None:
            if int(size) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False) and message["type"] == "http.request"
        if len(body) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = {"detail": f"request body over {self.max_bytes} bytes"}
        await JSONResponse(message, status_code=413)(scope, receive, send)


def _score(scorer: Scorer, requests: list[ScoreRequest]) -> list[dict[str, Any]]:
    """Score through the same ``Scorer.featurize`` and ``Scorer.score`` as batch and pyfunc, so all
    give one number; the request goes straight into numpy columns (a pandas frame per request
    cost most of a request's time)."""
    now = datetime.now(UTC)
    moments = [r.as_of or now for r in requests]
    leads = {
        role: np.array([getattr(r.lead, role) for r in requests], dtype=object)
        for role in _TEXT_ROLES
    }
    leads["lead_id"] = np.array([r.lead.lead_id for r in requests], dtype=object)
    leads["created_at"] = _moments([r.lead.created_at for r in requests])
    owners = [(r.lead.lead_id, e) for r in requests for e in r.events]
    events = {
        "lead_id": np.array([lead_id for lead_id, _ in owners], dtype=object),
        "ts": _moments([e.ts for _, e in owners]),
        "event_type": np.array([e.event_type for _, e in owners], dtype=np.object_),
    }
    scores = scorer.score(scorer.featurize(leads, events, _moments(moments)))
    fields = list(scores)
    rows = zip(*(scores[f].tolist() for f in fields), strict=True)
    return [
        {
            "lead_id": r.lead.lead_id,
            "as_of": moment,
            **dict(zip(fields, row, strict=True)),
            "model_version": scorer.model_version,
            "scored_at": now,
        }
        for r, moment, row in zip(requests, moments, rows, strict=True)
    ]


def _moments(moments: list[datetime]) -> np.ndarray:
    """UTC datetimes as naive UTC ``datetime64[us]``, the features' time columns."""
    return np.array([m.replace(tzinfo=None) for m in moments], dtype="datetime64[us]")
