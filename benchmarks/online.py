"""Online scoring latency: `leadscore serve` against `mlflow models serve` of the same artifact.

    python benchmarks/online.py [--model models/lead_scorer] [--data data/raw]
                                [--sequential 2000] [--clients 4] [--per-client 500]

Each server runs as its own process on a free port of 127.0.0.1, one at a time, and is measured
the same way by a client that keeps one HTTP connection per client thread (the standard library's
``http.client``: ``requests.Session`` spends ~1.7 ms of its own per call here, measured as
``GET /health`` of the same server, 2.5 ms p50 against 0.75 ms, which would count as the
server's latency):

- warm-up: ``--warmup`` requests (leads not used in the measurement);
- sequential: ``--sequential`` single-lead requests, one after the other;
- concurrent: ``--clients`` threads, each with its own connection, ``--per-client`` requests each.

The requests are the demo's most recent real leads, each scored once per mode. leadscore gets
``POST /score`` with the lead and its events up to the scoring moment (the body the API
documents); MLflow gets ``POST /invocations`` with the lead as a one-row ``dataframe_split`` plus
``as_of`` and no ``events`` column, so the pyfunc scores without an event log and MLflow does
less work per request. Latency is the client's wall time from sending a request to having read
the answer.

Prints JSON (p50/p90/p99/max ms and requests/s per server and mode, the p50 ratio
mlflow/leadscore, the load average before and after) and writes it to
benchmarks/results/online.json. The machine is shared, so read p99 next to the load average.

``--metrics-cost`` measures instead what counting for ``GET /metrics`` costs a request: two
``leadscore serve`` of the same artifact run side by side, one with ``--no-metrics``, and get
``--rounds`` blocks of ``--sequential`` requests each, in turn (the order swapped every round),
so that both see the same load; it prints and writes (benchmarks/results/online_metrics.json)
each one's p50 and the difference.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import requests

RESULTS = Path(__file__).parent / "results"
AS_OF = "2026-10-01T06:00:00Z"  # just after the demo data's last lead and event
KEY = "benchmark-key"  # leadscore serve needs a key; MLflow ignores the header
HEADERS = {"Content-Type": "application/json", "X-API-Key": KEY}
TARGET_P99_MS = 10.0
TARGET_P50_RATIO = 3.0


def request_bodies(data: Path, n: int, as_of: str) -> tuple[list[bytes], list[bytes]]:
    """The ``n`` most recent leads as (leadscore body, MLflow body) pairs, JSON-encoded once."""
    moment = pd.Timestamp(as_of)
    leads = pd.read_parquet(data / "leads.parquet").drop_duplicates("lead_id")
    leads = leads[leads["created_at"] <= moment].drop(columns=["converted", "converted_at"])
    leads = leads.sort_values("created_at", kind="stable").tail(n).reset_index(drop=True)
    events = pd.read_parquet(data / "events.parquet")
    events = events[events["lead_id"].isin(leads["lead_id"]) & (events["ts"] <= moment)]
    own = {key: group.drop(columns="lead_id") for key, group in events.groupby("lead_id")}
    records = json.loads(leads.to_json(orient="records", date_format="iso"))
    ours, theirs = [], []
    for i, lead in enumerate(records):
        lead_events = own.get(lead["lead_id"])
        listed = (
            [] if lead_events is None else json.loads(lead_events.to_json(orient="records",
                                                                          date_format="iso"))
        )  # fmt: skip
        ours.append(json.dumps({"lead": lead, "events": listed, "as_of": as_of}).encode())
        row = leads.iloc[[i]].assign(as_of=as_of)
        split = json.loads(row.to_json(orient="split", date_format="iso", index=False))
        theirs.append(json.dumps({"dataframe_split": split}).encode())
    return ours, theirs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(argv: list[str], health: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A server process that answers ``health`` with 200; stopped (and waited for) on exit."""
    with tempfile.TemporaryFile() as log:  # not a pipe: a chatty server must never block on it
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"{argv[:3]} exited: {log.read().decode()[-2000:]}")
                try:
                    if requests.get(health, timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.5)
            else:
                raise SystemExit(f"{argv[:3]} did not come up within 180 s")
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def timed_posts(url: str, bodies: list[bytes]) -> np.ndarray:
    """Milliseconds per request, over one persistent connection; every answer must be a 200."""
    where = urlsplit(url)
    latencies = np.empty(len(bodies))
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        for i, body in enumerate(bodies):
            start = time.perf_counter()
            connection.request("POST", where.path, body=body, headers=HEADERS)
            answer = connection.getresponse()
            content = answer.read()  # the answer is read in full before the clock stops
            latencies[i] = (time.perf_counter() - start) * 1000
            if answer.status != 200:
                raise SystemExit(f"{url} answered {answer.status}: {content[:500]!r}")
    finally:
        connection.close()
    return latencies


def summary(latencies: np.ndarray, seconds: float) -> dict[str, float]:
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    return {
        "requests": len(latencies),
        "p50_ms": round(float(p50), 3),
        "p90_ms": round(float(p90), 3),
        "p99_ms": round(float(p99), 3),
        "max_ms": round(float(latencies.max()), 3),
        "requests_per_s": round(len(latencies) / seconds, 1),
    }


def measure(url: str, bodies: list[bytes], args: argparse.Namespace) -> dict[str, dict]:
    """Warm-up, then the sequential run, then the concurrent clients, on distinct leads."""
    timed_posts(url, bodies[: args.warmup])
    start = args.warmup
    sequential = bodies[start : start + args.sequential]
    t = time.perf_counter()
    one = timed_posts(url, sequential)
    result = {"sequential": summary(one, time.perf_counter() - t)}
    start += args.sequential
    shares = [
        bodies[start + c * args.per_client : start + (c + 1) * args.per_client]
        for c in range(args.clients)
    ]
    found: list[np.ndarray] = [np.empty(0)] * args.clients
    gate = threading.Barrier(args.clients + 1)

    def client(c: int) -> None:
        gate.wait()
        found[c] = timed_posts(url, shares[c])

    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    for thread in threads:
        thread.start()
    gate.wait()
    t = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t
    if any(len(f) != args.per_client for f in found):
        raise SystemExit("a concurrent client failed")
    result["concurrent"] = summary(np.concatenate(found), seconds)
    return result


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/lead_scorer"))
    parser.add_argument("--data", type=Path, default=Path("data/raw"))
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=500)
    parser.add_argument("--skip-mlflow", action="store_true", help="only measure leadscore")
    parser.add_argument("--metrics-cost", action="store_true", help="metrics on against off")
    parser.add_argument("--rounds", type=int, default=10, help="with --metrics-cost")
    args = parser.parse_args()
    if args.metrics_cost:
        metrics_cost(args)
        return

    needed = args.warmup + args.sequential + args.clients * args.per_client
    ours, theirs = request_bodies(args.data, needed, args.as_of)
    if len(ours) < needed:
        raise SystemExit(f"{args.data} holds {len(ours)} leads; this run needs {needed}")
    bin_dir, env = Path(sys.executable).parent, server_env()
    figures: dict = {
        "as_of": args.as_of,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_average(),
    }

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [str(bin_dir / "leadscore"), "serve", "--model", str(args.model), "--port", str(port)]
    with serving(argv, f"{base}/health", env):
        figures["leadscore"] = measure(f"{base}/score", ours, args)
    write(figures)  # kept if the (slower) MLflow run is stopped
    if not args.skip_mlflow:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [str(bin_dir / "mlflow"), "models", "serve", "-m", str(args.model),
                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
        with serving(argv, f"{base}/ping", env):
            figures["mlflow"] = measure(f"{base}/invocations", theirs, args)
        figures["p50_ratio_mlflow_over_leadscore"] = {
            mode: round(figures["mlflow"][mode]["p50_ms"] / figures["leadscore"][mode]["p50_ms"], 2)
            for mode in ("sequential", "concurrent")
        }
    figures["load_average_after"] = load_average()
    figures["targets"] = {
        "sequential_p99_ms_at_most": TARGET_P99_MS,
        "sequential_p99_met": figures["leadscore"]["sequential"]["p99_ms"] <= TARGET_P99_MS,
        "p50_ratio_at_least": TARGET_P50_RATIO,
    }
    if "mlflow" in figures:
        figures["targets"]["p50_ratio_met"] = all(
            r >= TARGET_P50_RATIO for r in figures["p50_ratio_mlflow_over_leadscore"].values()
        )
    print(json.dumps(figures, indent=2))
    write(figures)


def server_env() -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "LEADSCORE_API_KEYS": KEY}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def metrics_cost(args: argparse.Namespace) -> None:
    """p50 with and without the /metrics counting, from interleaved blocks in one run."""
    needed = args.warmup + args.rounds * args.sequential
    bodies = request_bodies(args.data, needed, args.as_of)[0]
    if len(bodies) < needed:
        raise SystemExit(f"{args.data} holds {len(bodies)} leads; this run needs {needed}")
    leadscore = str(Path(sys.executable).parent / "leadscore")
    figures: dict = {"cpu_count": os.cpu_count(), "load_average_before": load_average()}
    urls = {}
    with ExitStack() as stack:
        for name, flag in (("with_metrics", "--metrics"), ("without_metrics", "--no-metrics")):
            port = free_port()
            urls[name] = f"http://127.0.0.1:{port}"
            argv = [leadscore, "serve", "--model", str(args.model), "--port", str(port), flag]
            stack.enter_context(serving(argv, f"{urls[name]}/health", server_env()))
        for url in urls.values():
            timed_posts(f"{url}/score", bodies[: args.warmup])
        found: dict[str, list[np.ndarray]] = {name: [] for name in urls}
        for r in range(args.rounds):
            block = bodies[args.warmup + r * args.sequential :][: args.sequential]
            for name in sorted(urls, reverse=r % 2 == 1):
                found[name].append(timed_posts(f"{urls[name]}/score", block))
    for name, blocks in found.items():
        figures[name] = summary(np.concatenate(blocks), 1.0) | {
            "p50_ms_per_round": [round(float(np.median(b)), 3) for b in blocks]
        }
        del figures[name]["requests_per_s"]
    figures["p50_cost_ms"] = round(
        figures["with_metrics"]["p50_ms"] - figures["without_metrics"]["p50_ms"], 3
    )
    figures["load_average_after"] = load_average()
    print(json.dumps(figures, indent=2))
    write(figures, "online_metrics.json")


def write(figures: dict, name: str = "online.json") -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
