"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn bounds the wait between two requests of a connection (``timeout_keep_alive``) but not a
request whose headers trickle in a byte at a time, nor a connection that never sends a byte: a
few hundred of those (slowloris) hold every connection a server has. This protocol closes a
connection whose request headers are not complete ``LEADSCORE_HEADER_TIMEOUT`` seconds (default
:data:`HEADER_TIMEOUT_S`) after it opened or after the request's first byte. The body's own
deadline is :mod:`leadscore.api.guard`'s.

``leadscore serve`` uses it; with uvicorn itself: ``--http
leadscore.api.protocol:HeaderTimeoutProtocol``. A reverse proxy in front (nginx's
``client_header_timeout``) does the same job.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_ENV = "LEADSCORE_HEADER_TIMEOUT"
HEADER_TIMEOUT_S = 10.0


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
