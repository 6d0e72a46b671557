"""Who may call, and how long a body may take: checked before anything reads the body.

FastAPI reads a request's body before it runs the dependencies that check its key, so a client
without a key could stream a body of any size, chunked, and have the server read it first. Here
the key is checked on the request's headers alone: a call without the right key is refused
before a byte of its body is read, and the connection is closed when a body was coming. The
body's size is counted as it streams in (FastAPI's ``max_body_size``, Starlette's
``RequestBodyLimitMiddleware``); its time is bounded here: a body not complete within
``body_timeout`` seconds of the request's start gets 408 and a closed connection. Slow headers
are uvicorn's business (see :mod:`leadscore.api.protocol`).

Keys come from ``LEADSCORE_API_KEYS`` (comma-separated) and ``LEADSCORE_ADMIN_KEY``. Without an
API key the server refuses to start, unless it is told to run open (``--insecure-no-auth``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadscore.errors import ConfigError

log = logging.getLogger(__name__)

API_KEYS_ENV = "LEADSCORE_API_KEYS"  # comma-separated; every scoring call needs one
ADMIN_KEY_ENV = "LEADSCORE_ADMIN_KEY"  # when set, POST /admin/reload exists and needs it
INSECURE_ENV = "LEADSCORE_INSECURE_NO_AUTH"  # "1": run without API keys (set by --insecure-no-auth)
API_KEY_HEADER = "X-API-Key"
ADMIN_KEY_HEADER = "X-Admin-Key"
ADMIN_PATH = "/admin/reload"
# what anyone may call: health, metrics and the API's own documentation
OPEN_PATHS = frozenset(
    ["/health", "/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs", "/redoc"]
)


@dataclass(frozen=True)
class Keys:
    """The keys a call may carry (no API key: the API is open, by explicit choice)."""

    api: tuple[str, ...]
    admin: tuple[str, ...]

    @classmethod
    def from_env(cls, *, insecure: bool | None = None) -> Keys:
        """The keys of the environment; without an API key, :class:`ConfigError` unless
        ``insecure`` (default: ``LEADSCORE_INSECURE_NO_AUTH``)."""
        keys = cls(_split(os.environ.get(API_KEYS_ENV)), _split(os.environ.get(ADMIN_KEY_ENV)))
        open_allowed = os.environ.get(INSECURE_ENV) == "1" if insecure is None else insecure
        if not keys.api and not open_allowed:
            raise ConfigError(
                f"{API_KEYS_ENV} holds no key, so anyone who reaches the server could score "
                "leads and read the model: set it (comma-separated keys), or start with "
                f"--insecure-no-auth ({INSECURE_ENV}=1) on a network you trust"
            )
        return keys

    def needed(self, path: str) -> tuple[str, tuple[str, ...]] | None:
        """The header and keys a call to ``path`` needs (None: none)."""
        if path in OPEN_PATHS or path.startswith("/docs/"):
            return None
        if path == ADMIN_PATH and self.admin:
            return ADMIN_KEY_HEADER, self.admin
        return (API_KEY_HEADER, self.api) if self.api else None


def authorised(given: str | None, keys: tuple[str, ...]) -> bool:
    """Whether ``given`` is one of ``keys``, compared in constant time."""
    return any(hmac.compare_digest((given or "").encode(), k.encode()) for k in keys)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(k.strip() for k in (value or "").split(",") if k.strip())


class Guard:
    """Refuses a call without its key before the body is read; bounds the body's time."""

    def __init__(self, app: ASGIApp, *, keys: Keys, body_timeout: float) -> None:
        self.app = app
        self.keys = keys
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        needed = self.keys.needed(scope["path"])
        if needed is not None:
            name, keys = needed
            given = headers.get(name.lower().encode())
            if not authorised(given.decode("latin-1") if given else None, keys):
                detail = {"detail": f"missing or wrong {name}"}
                close = {"connection": "close"} if _body_coming(headers) else None
                await JSONResponse(detail, status_code=401, headers=close)(scope, receive, send)
                return
        if not _body_coming(headers):
            await self.app(scope, receive, send)
            return
        await self.app(scope, _in_time(receive, self.body_timeout), send)


def _body_coming(headers: dict[bytes, bytes]) -> bool:
    return headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers


def _in_time(receive: Receive, seconds: float) -> Receive:
    """``receive`` for a body that must be complete ``seconds`` from now."""
    deadline = asyncio.get_running_loop().time() + seconds
    complete = False

    async def receive_in_time() -> Message:
        nonlocal complete
        if complete:  # after the body: a disconnect, whenever it comes
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            log.info("a request body did not arrive within %.0f s: 408", seconds)
            raise HTTPException(
                408, f"request body not complete within {seconds:g} s", {"connection": "close"}
            ) from None
        complete = not message.get("more_body", False)
        return message

    return receive_in_time
