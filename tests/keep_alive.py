"""Clients that hold keep-alive connections to a server under test, and a fresh-connection probe.

Raw sockets on purpose: requests (urllib3) quietly replaces a pooled connection the server has
closed, and a few hundred threads contend for the GIL; these clients see every reset, and two
hundred of them on one event loop cost the test process little CPU.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

Answer = tuple[int | str, str]  # (status, the model version of a valid score, else ""), or an error
READ_TIMEOUT_S = 60
# the server accepts one connection per turn of its event loop (libuv's accept), and a turn
# grows with the clients already in: this long at most for every client to get its first answer
ALL_IN_S = 30


def http_post(path: str, body: dict, headers: dict[str, str]) -> bytes:
    """A keep-alive HTTP/1.1 POST of ``body`` as JSON, ready to send again and again."""
    payload = json.dumps(body).encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{head}"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


@contextmanager
def keep_alive_clients(url: str, request: bytes, *, clients: int) -> Iterator[Counter[Answer]]:
    """``clients`` connections, each sending ``request`` again as soon as its answer is in, until
    the block ends; yields, once every client has had an answer (or after :data:`ALL_IN_S`),
    the count of answers, and of errors as ``("error", kind)``. A client opens a new connection
    only when the server closed the last one or it failed."""
    host, port = url.removeprefix("http://").split(":")
    answers: Counter[Answer] = Counter()
    stop, all_in = threading.Event(), threading.Event()
    waiting = [clients]

    def answered_first() -> None:  # on the loop's thread alone
        waiting[0] -= 1
        if not waiting[0]:
            all_in.set()

    async def client() -> None:
        first = True
        while not stop.is_set():  # a new connection after a close or an error, each counted
            try:
                reader, writer = await asyncio.open_connection(host, int(port))
            except OSError as exc:
                answers["error", type(exc).__name__] += 1
                await asyncio.sleep(0.1)
                continue
            try:
                while not stop.is_set():
                    kept = await _exchange(reader, writer, request, answers)
                    if first:
                        first = False
                        answered_first()
                    if not kept:
                        break
            except (OSError, asyncio.IncompleteReadError) as exc:  # TimeoutError: an OSError
                answers["error", type(exc).__name__] += 1
            finally:
                writer.close()

    async def run_all() -> None:
        await asyncio.gather(*(client() for _ in range(clients)))

    thread = threading.Thread(target=asyncio.run, args=(run_all(),))
    thread.start()
    all_in.wait(ALL_IN_S)
    try:
        yield answers
    finally:
        stop.set()
        thread.join(timeout=READ_TIMEOUT_S + 10)


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, answers: Counter
) -> bool:
    """Send ``request`` and count its answer; whether the connection stays open."""
    writer.write(request)
    async with asyncio.timeout(READ_TIMEOUT_S):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
        body = await reader.readexactly(int(headers["content-length"]))
    status = int(lines[0].split(" ")[1])
    answers[status, _scored_version(body) if status == 200 else ""] += 1
    return headers.get("connection") != "close"


def _scored_version(body: bytes) -> str:
    """The model version of a valid score, else ""."""
    row = json.loads(body)
    valid = 0 <= row.get("probability", -1) <= 1 and 0 <= row.get("score", -1) <= 100
    return row.get("model_version", "") if valid else ""


def fresh_get(url: str, path: str) -> tuple[int | str, float]:
    """``GET path`` on a new connection, as a liveness probe sends it: the status (or the
    error) and the seconds from connecting to the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    request = f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n".encode()
    started = time.perf_counter()
    try:
        with socket.create_connection((host, int(port)), timeout=READ_TIMEOUT_S) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status: int | str = int(answer.split(b" ", 2)[1])
    except (OSError, IndexError, ValueError) as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - started
