"""What a big body from a client without a key costs `leadscore serve`: refused at once, or read.

    python benchmarks/api_refusal.py [--model models/lead_scorer] [--megabytes 50] [--tries 5]

Starts ``leadscore serve`` (with a key configured) on a free port of 127.0.0.1 and sends it
``--tries`` times a ``POST /score`` whose body of ``--megabytes`` MB is chunked (no
Content-Length) and carries no key, from a thread that keeps sending while the client waits for
the answer; then once with the key, where the size limit (``--max-body-bytes``) cuts it. The
baseline is the same server's ``GET /health`` latency before, and again right after. Prints JSON
(each answer's status line and seconds, the server's RSS before and after, the load average) and
writes it to benchmarks/results/api_refusal.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path

import requests
from online import KEY, free_port, load_average, server_env, serving, write


def stream(port: int, headers: dict[str, str], megabytes: int) -> dict:
    """One chunked POST of ``megabytes``: the answer's status line and the seconds it took."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Transfer-Encoding: chunked\r\n{head}\r\n".encode())  # fmt: skip
    block = b"x" * 65536
    frame = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    sent = [0]

    def pump() -> None:
        try:
            for _ in range(megabytes * 16):
                sock.sendall(frame)
                sent[0] += len(block)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # closed by the server

    started = time.perf_counter()
    threading.Thread(target=pump, daemon=True).start()
    status = sock.recv(4096).split(b"\r\n")[0].decode()
    seconds = time.perf_counter() - started
    sock.close()
    return {"status": status, "seconds": round(seconds, 4), "bytes_sent_by_then": sent[0]}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise SystemExit(f"no VmRSS for {pid}")


def health_ms(url: str, n: int = 20) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        requests.get(f"{url}/health", timeout=30).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return round(sorted(times)[n // 2], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/lead_scorer"))
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(Path(sys.executable).parent / "leadscore"), "serve", "--model", str(args.model),
            "--port", str(port)]  # fmt: skip
    figures: dict = {"megabytes": args.megabytes, "load_average_before": load_average()}
    with serving(argv, f"{url}/health", server_env()) as process:
        figures["health_p50_ms_before"] = health_ms(url)
        figures["rss_mb_before"] = rss_mb(process.pid)
        figures["without_key"] = [stream(port, {}, args.megabytes) for _ in range(args.tries)]
        figures["with_key"] = stream(port, {"X-API-Key": KEY}, args.megabytes)
        figures["rss_mb_after"] = rss_mb(process.pid)
        figures["health_p50_ms_after"] = health_ms(url)
    figures["load_average_after"] = load_average()
    print(json.dumps(figures, indent=2))
    write(figures, "api_refusal.json")


if __name__ == "__main__":
    main()
