"""What the API tells its operators: a request id, one log line per request, Prometheus metrics,
and an unexpected error logged without what the request held.

Each request gets an id, the client's ``X-Request-ID`` when it sends a plausible one, else a new
one; it comes back in the answer's ``X-Request-ID`` header and is on every log record made while
the request is served (:mod:`leadscore.logs`). One line per request says its method, path (never
the query string), status and time. An exception no handler took is logged with its type and
where it happened, never its message or arguments: those may hold the lead, and the lead holds
e-mail addresses, phone numbers and names.

``GET /metrics`` is the Prometheus exposition of the counters below (prometheus_client). Each
``leadscore serve`` worker process counts its own requests.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from collections import Counter as Tally
from collections.abc import Sequence
from time import perf_counter

from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadscore.logs import request_id

log = logging.getLogger("leadscore.api")

REQUEST_ID_HEADER = b"x-request-id"
_PLAUSIBLE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
METRICS_PATH = "/metrics"
# paths by name in the metrics and the log; any other path is "other", so a scan of random URLs
# neither floods the metrics with series nor writes what it tried into the log
KNOWN_PATHS = frozenset(
    [
        "/score",
        "/score/batch",
        "/model",
        "/health",
        "/health/live",
        "/health/ready",
        "/admin/reload",
        METRICS_PATH,
        "/openapi.json",
        "/docs",
    ]
)
# set by leadscore.api.protocol on a request that found too many in progress: answered 503 here,
# where it is logged and counted like any other
BUSY_SCOPE_KEY = "leadscore.busy"
BUSY_BODY = b'{"detail":"busy: too many requests in progress, retry in a second"}'
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The API's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "leadscore_requests",
            "HTTP requests answered, by method, path and status",
            ["method", "path", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "leadscore_request_seconds",
            "Time to answer a request, by path",
            ["path"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.leads = Counter(
            "leadscore_leads_scored", "Leads scored, by band", ["band"], registry=self.registry
        )
        self.model = Gauge(
            "leadscore_model_info",
            "The model version served (value 1)",
            ["model_version"],
            registry=self.registry,
        )
        self.version: str | None = None

    def serving(self, version: str) -> None:
        """The model now served."""
        if self.version is not None and self.version != version:
            self.model.remove(self.version)
        self.model.labels(version).set(1)
        self.version = version

    def scored(self, bands: Sequence[str]) -> None:
        for band, count in Tally(bands).items():
            self.leads.labels(band).inc(count)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests.labels(method, path, str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class Observed:
    """ASGI middleware around the whole API: request id, log line, metrics, ``/metrics``, and
    unexpected errors answered 500 and logged without the request's content."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        rid = _request_id(scope)
        token = request_id.set(rid)
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        answer = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.update(status=message["status"], started=True)
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER, rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            if scope.get(BUSY_SCOPE_KEY):
                await _busy(send_with_id)
            elif path == METRICS_PATH and self.metrics is not None:
                await self._metrics(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception as exc:  # what no handler took: its type and place, never its text
            where = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
            log.error("unexpected %s answering %s %s\n%s", type(exc).__name__, scope["method"],
                      path, where)  # fmt: skip
            if not answer["started"]:
                problem = {"detail": f"internal error (request {rid})"}
                await JSONResponse(problem, status_code=500)(scope, receive, send_with_id)
        finally:
            seconds = perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe(scope["method"], path, int(answer["status"]), seconds)
            log.info("%s %s %s %.1f ms", scope["method"], path, answer["status"], seconds * 1e3)
            request_id.reset(token)

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.metrics is not None
        body = self.metrics.exposition()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _busy(send: Send) -> None:
    """503 without reading the body; the connection stays open for the client's next try."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BUSY_BODY)).encode()),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": BUSY_BODY})


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _PLAUSIBLE_ID.fullmatch(value):
            return value.decode()
    return uuid.uuid4().hex
