"""The ASGI app that ``leadscore serve``, ``uvicorn --factory`` and gunicorn run: the current
model's app, switched to a newly loaded model without dropping a request.

Each request goes to the app of the model that is current when it arrives. A reload (SIGHUP, or
``POST /admin/reload`` with the admin key) loads the model anew in a worker thread — for a
registry alias such as ``models:/lead-scorer@champion``, whatever version it points to now —
and swaps it in once it is loaded: requests in flight finish on the old model, none waits for
the load, none fails. A model that does not load leaves the old one serving.

Under ``leadscore serve --workers N`` the supervisor gets SIGHUP and passes it to each worker,
which reloads in place (:mod:`leadscore.api.supervisor` says why); the admin call, answered by
one worker, asks the supervisor.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from leadscore.api.app import Hooks, Limits, LoadedModel, scoring_app
from leadscore.api.guard import Keys
from leadscore.api.observe import Metrics, Observed
from leadscore.scoring.artifact import load_artifact
from leadscore.scoring.registry import model_source

log = logging.getLogger(__name__)

MODEL_ENV = "LEADSCORE_MODEL"
MAX_BATCH_ENV = "LEADSCORE_MAX_BATCH"
MAX_BODY_ENV = "LEADSCORE_MAX_BODY_BYTES"
BODY_TIMEOUT_ENV = "LEADSCORE_BODY_TIMEOUT"
METRICS_ENV = "LEADSCORE_METRICS"  # "0": no Prometheus metrics
SUPERVISOR_ENV = "LEADSCORE_SUPERVISOR_PID"  # set by `leadscore serve --workers N`
DEFAULT_MODEL = "models/lead_scorer"
# After a swap, requests in flight still hold the old model; once they are surely done its
# objects are handed back to the garbage collector (they were frozen out of its sight).
REFREEZE_AFTER_S = 60.0
T = TypeVar("T")


def create_app(
    model: str | Path | None = None,
    *,
    max_batch: int | None = None,
    max_body_bytes: int | None = None,
    body_timeout: float | None = None,
    insecure_no_auth: bool | None = None,
    metrics: bool | None = None,
) -> Switchboard:
    """The API for a model folder or registry URI. Arguments left out come from the environment
    (``LEADSCORE_MODEL``, ``LEADSCORE_MAX_BATCH``, ``LEADSCORE_MAX_BODY_BYTES``,
    ``LEADSCORE_BODY_TIMEOUT``, ``LEADSCORE_INSECURE_NO_AUTH``, ``LEADSCORE_METRICS``; defaults:
    ``models/lead_scorer``, :class:`Limits`', keys required, metrics on), so ``uvicorn --factory
    leadscore.api:create_app`` and gunicorn's ``leadscore.api:create_app()`` need no code.

    Without an API key (``LEADSCORE_API_KEYS``) it refuses with :class:`ConfigError`, unless
    ``insecure_no_auth``; then it logs, as a warning, that anyone may call.
    """
    default = Limits()
    limits = Limits(
        max_batch=_setting(max_batch, MAX_BATCH_ENV, default.max_batch, int),
        max_body_bytes=_setting(max_body_bytes, MAX_BODY_ENV, default.max_body_bytes, int),
        body_timeout_s=_setting(body_timeout, BODY_TIMEOUT_ENV, default.body_timeout_s, float),
    )
    keys = Keys.from_env(insecure=insecure_no_auth)
    if not keys.api:
        log.warning(
            "NO API KEY: every endpoint is open to anyone who can reach this server "
            "(--insecure-no-auth); set LEADSCORE_API_KEYS unless the network is yours alone"
        )
    counting = _setting(metrics, METRICS_ENV, True, lambda v: v != "0")
    uri = str(model or os.environ.get(MODEL_ENV, DEFAULT_MODEL))
    return Switchboard(uri, limits, keys, Metrics() if counting else None)


def _setting(given: T | None, variable: str, default: T, cast: Callable[[str], T]) -> T:
    """An argument, else the environment variable's value, else the default."""
    if given is not None:
        return given
    text = os.environ.get(variable)
    return default if text is None else cast(text)


def load_model(uri: str) -> LoadedModel:
    """Load a model folder or registry URI; everything is in memory once this returns, so a
    downloaded folder is removed at once."""
    with model_source(uri) as source:
        scorer, metadata = load_artifact(source.path)
    scorer.tree_shares  # noqa: B018  (built now, not by the first request it would delay)
    about = {
        key: metadata[key]
        for key in ("model_version", "mlflow_run_id", "data_fingerprint", "git_commit")
    }
    about |= {"source": source.describe(), "thresholds": scorer.thresholds}
    return LoadedModel(scorer, about | {"metrics": metadata["metrics"]})


class Switchboard:
    """Passes each request to the current model's app; :meth:`reload` switches models."""

    def __init__(self, uri: str, limits: Limits, keys: Keys, metrics: Metrics | None) -> None:
        self.uri = uri
        self.limits = limits
        self.keys = keys
        self.metrics = metrics
        self.serving = False  # between the lifespan's startup and shutdown
        self.app = self._build()
        self.observed = Observed(self._current, metrics)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    @property
    def model_version(self) -> str:
        return self.app.version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.observed(scope, receive, send)

    async def _current(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def reload(self) -> dict[str, Any]:
        """Load the model anew here (see :meth:`reload_here`) or, as a worker of ``serve
        --workers N``, ask the supervisor to have every worker do it."""
        supervisor = _supervisor()
        if supervisor is None:
            return await self.reload_here()
        os.kill(supervisor, signal.SIGHUP)
        return {"reloading": "every worker, in place", "model": self.uri}

    async def reload_here(self) -> dict[str, Any]:
        """Load the model anew and serve it from the next request on; raises what loading
        raised, the old model still serving."""
        async with self._lock:
            previous = self.model_version
            self.app = await asyncio.to_thread(self._build)
        asyncio.get_running_loop().call_later(REFREEZE_AFTER_S, _refreeze)
        log.info("now serving %s (%s), was %s", self.model_version, self.uri, previous)
        return {"model_version": self.model_version, "previous": previous, "model": self.uri}

    def _build(self) -> FastAPI:
        model = load_model(self.uri)
        hooks = Hooks(
            reload=self.reload,
            scored=self.metrics.scored if self.metrics is not None else None,
            ready=lambda: self.serving,
        )
        app = scoring_app(model, self.limits, keys=self.keys, hooks=hooks)
        if self.metrics is not None:
            self.metrics.serving(app.version)
        return app

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._on_signal(signal.SIGHUP, self._reload_logged)
                # Everything loaded so far lives as long as the server: out of the garbage
                # collector's sight, a full collection no longer walks all of it, which stalled
                # whichever request it fell on.
                gc.freeze()
                self.serving = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.serving = False
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _on_signal(self, number: signal.Signals, handler: Any) -> None:
        """Run ``handler`` on the signal, where the loop can take signals (its main thread)."""
        try:
            asyncio.get_running_loop().add_signal_handler(number, handler)
        except (RuntimeError, ValueError, NotImplementedError):
            log.info("no %s handler here: reload through POST /admin/reload", number.name)

    def _reload_logged(self) -> None:
        task = asyncio.ensure_future(self._reload_or_log())
        self._tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._tasks.discard)

    async def _reload_or_log(self) -> None:
        try:
            await self.reload_here()
        except Exception:
            log.exception("reload failed; still serving %s", self.model_version)


def _supervisor() -> int | None:
    """The pid of `leadscore serve --workers N`'s supervisor, when this is one of its workers."""
    pid = os.environ.get(SUPERVISOR_ENV)
    return int(pid) if pid and int(pid) == os.getppid() else None


def _refreeze() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()
