"""uvicorn's HTTP protocol with a deadline for a request's headers, and a bound on the requests in
progress.

uvicorn bounds the wait between two requests of a connection (``timeout_keep_alive``) but not a
request whose headers trickle in a byte at a time, nor a connection that never sends a byte: a
few hundred of those (slowloris) hold every connection a server has. :class:`HeaderTimeoutProtocol`
closes a connection whose request headers are not complete ``LEADSCORE_HEADER_TIMEOUT`` seconds
(default :data:`HEADER_TIMEOUT_S`) after it opened or after the request's first byte. The body's
own deadline is :mod:`leadscore.api.guard`'s.

The event loop serves, each turn, every connection with a request waiting and accepts one new
connection (libuv's accept, under uvloop), and a new connection needs about three turns
(accepted, read, answered): with a few hundred clients on keep-alive connections a fresh
liveness probe waited seconds, and an orchestrator would restart a healthy server.
:class:`SheddingProtocol` answers a request that finds ``LEADSCORE_MAX_CONCURRENCY`` others in
progress (default :data:`MAX_CONCURRENCY`) with 503 at once, which bounds a turn; the health
checks are always served. uvicorn's own ``limit_concurrency`` counts open connections, so it
refuses every request, health checks too, while that many keep-alive clients are connected.

``leadscore serve`` uses :class:`SheddingProtocol`; with uvicorn itself: ``--http
leadscore.api.protocol:SheddingProtocol``. A reverse proxy in front (nginx's
``client_header_timeout``, a connection limit) can do the same jobs.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from leadscore.api.observe import BUSY_SCOPE_KEY

HEADER_TIMEOUT_ENV = "LEADSCORE_HEADER_TIMEOUT"
HEADER_TIMEOUT_S = 10.0
MAX_CONCURRENCY_ENV = "LEADSCORE_MAX_CONCURRENCY"
MAX_CONCURRENCY = 32  # requests in progress per worker; docs/results.md has the figures
# what an orchestrator or a load balancer asks: cheap, and never shed
HEALTH_PATHS = frozenset([b"/health", b"/health/live", b"/health/ready"])


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose headers come too slowly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = float(os.environ.get(HEADER_TIMEOUT_ENV, HEADER_TIMEOUT_S))
        self.header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.header_deadline is None:  # a later request of a kept-alive connection
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self.header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _headers_late(self) -> None:
        self.header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class SheddingProtocol(HeaderTimeoutProtocol):
    """:class:`HeaderTimeoutProtocol` that marks a request over the limit for a quick 503.

    A request counts from its headers to its answer's last byte (uvicorn's own set of tasks
    keeps a finished one for another turn of the loop, which would double the count)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_concurrency = int(os.environ.get(MAX_CONCURRENCY_ENV, MAX_CONCURRENCY))
        self.in_progress = _IN_PROGRESS.setdefault(self.server_state, _Count())
        self.counted: deque[bool] = deque()  # this connection's unanswered requests: counted?

    def on_headers_complete(self) -> None:
        counts = self.url.partition(b"?")[0] not in HEALTH_PATHS
        if counts and self.in_progress.value >= self.max_concurrency:
            self.scope[BUSY_SCOPE_KEY] = True  # type: ignore[literal-required]
            counts = False
        self.counted.append(counts)
        self.in_progress.value += counts
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        if self.counted and self.counted.popleft():
            self.in_progress.value -= 1
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.in_progress.value -= sum(self.counted)  # requests the client left unanswered
        self.counted.clear()
        super().connection_lost(exc)


@dataclass
class _Count:
    """A number that the protocols of one server share."""

    value: int = 0


# requests in progress, per server (each worker process has one)
_IN_PROGRESS: weakref.WeakKeyDictionary[ServerState, _Count] = weakref.WeakKeyDictionary()
