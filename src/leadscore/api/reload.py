"""The ASGI app that ``leadscore serve``, ``uvicorn --factory`` and gunicorn run: the current
model's app, switched to a newly loaded model without dropping a request.

Each request goes to the app of the model that is current when it arrives. A reload (SIGHUP, or
``POST /admin/reload`` with the admin key) loads the model anew in a worker thread — for a
registry alias such as ``models:/lead-scorer@champion``, whatever version it points to now —
and swaps it in once it is loaded: requests in flight finish on the old model, none waits for
the load, none fails. A model that does not load leaves the old one serving.

Under ``leadscore serve --workers N`` uvicorn's supervisor owns SIGHUP: it replaces the workers
one at a time, each new one loading the model afresh, and the admin call asks it to.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from leadscore.api.app import Limits, LoadedModel, scoring_app
from leadscore.scoring.artifact import load_artifact
from leadscore.scoring.registry import model_source

log = logging.getLogger(__name__)

MODEL_ENV = "LEADSCORE_MODEL"
MAX_BATCH_ENV = "LEADSCORE_MAX_BATCH"
MAX_BODY_ENV = "LEADSCORE_MAX_BODY_BYTES"
SUPERVISOR_ENV = "LEADSCORE_SUPERVISOR_PID"  # set by `leadscore serve --workers N`
DEFAULT_MODEL = "models/lead_scorer"
# After a swap, requests in flight still hold the old model; once they are surely done its
# objects are handed back to the garbage collector (they were frozen out of its sight).
REFREEZE_AFTER_S = 60.0


def create_app(
    model: str | Path | None = None,
    *,
    max_batch: int | None = None,
    max_body_bytes: int | None = None,
) -> Switchboard:
    """The API for a model folder or registry URI. Arguments left out come from
    ``LEADSCORE_MODEL``, ``LEADSCORE_MAX_BATCH`` and ``LEADSCORE_MAX_BODY_BYTES`` (defaults:
    ``models/lead_scorer`` and :class:`Limits`'), so ``uvicorn --factory
    leadscore.api:create_app`` and gunicorn's ``leadscore.api:create_app()`` need no code."""
    default = Limits()
    limits = Limits(
        max_batch=max_batch or int(os.environ.get(MAX_BATCH_ENV, default.max_batch)),
        max_body_bytes=max_body_bytes or int(os.environ.get(MAX_BODY_ENV, default.max_body_bytes)),
    )
    return Switchboard(str(model or os.environ.get(MODEL_ENV, DEFAULT_MODEL)), limits)


def load_model(uri: str) -> LoadedModel:
    """Load a model folder or registry URI; everything is in memory once this returns, so a
    downloaded folder is removed at once."""
    with model_source(uri) as source:
        scorer, metadata = load_artifact(source.path)
    about = {
        key: metadata[key]
        for key in ("model_version", "mlflow_run_id", "data_fingerprint", "git_commit")
    }
    about |= {"source": source.describe(), "thresholds": scorer.thresholds}
    return LoadedModel(scorer, about | {"metrics": metadata["metrics"]})


class Switchboard:
    """Passes each request to the current model's app; :meth:`reload` switches models."""

    def __init__(self, uri: str, limits: Limits) -> None:
        self.uri = uri
        self.limits = limits
        self.app = self._build()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    @property
    def model_version(self) -> str:
        return self.app.version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.app(scope, receive, send)

    async def reload(self) -> dict[str, Any]:
        """Load the model anew and serve it from the next request on; raises what loading
        raised, the old model still serving."""
        supervisor = _supervisor()
        if supervisor is not None:
            os.kill(supervisor, signal.SIGHUP)
            return {"reloading": "every worker, one at a time", "model": self.uri}
        async with self._lock:
            previous = self.model_version
            self.app = await asyncio.to_thread(self._build)
        asyncio.get_running_loop().call_later(REFREEZE_AFTER_S, _refreeze)
        log.info("now serving %s (%s), was %s", self.model_version, self.uri, previous)
        return {"model_version": self.model_version, "previous": previous, "model": self.uri}

    def _build(self) -> FastAPI:
        return scoring_app(load_model(self.uri), self.limits, reload=self.reload)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._on_signal(signal.SIGHUP, self._reload_logged)
                # Everything loaded so far lives as long as the server: out of the garbage
                # collector's sight, a full collection no longer walks all of it, which stalled
                # whichever request it fell on.
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
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
            await self.reload()
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
