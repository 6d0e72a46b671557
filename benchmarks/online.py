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

Then ``leadscore serve --workers W`` (``--workers``, default 2; 0 skips it) gets the concurrent
clients again, on the same leads, for the throughput several worker processes add.

Prints each figure beside its same-run baseline and their ratio (MLflow's p50 against
leadscore's, sequential and concurrent; the throughput of W workers against one, and the cores
their server processes kept busy: psutil's CPU seconds of the server and its children, and of
this client, over each mode), then JSON
(p50/p90/p99/max ms and requests/s per server and mode, the targets of issue 22: sequential p99
at most 6 ms, the p50 ratio at least 6, W workers at least 1.5 times one's throughput), and
writes it to benchmarks/results/online.json. The machine is shared, so read p99 next to the
load average.

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
import psutil
import requests
from recording import RESULTS, comparison, load_average, record

AS_OF = "2026-10-01T06:00:00Z"  # just after the demo data's last lead and event
KEY = "benchmark-key"  # leadscore serve needs a key; MLflow ignores the header
HEADERS = {"Content-Type": "application/json", "X-API-Key": KEY}
TARGET_P99_MS = 6.0
TARGET_P50_RATIO = 6.0
TARGET_WORKERS_SPEEDUP = 1.5


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


def percentiles(latencies: np.ndarray) -> dict[str, float]:
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    return {
        "requests": len(latencies),
        "p50_ms": round(float(p50), 3),
        "p90_ms": round(float(p90), 3),
        "p99_ms": round(float(p99), 3),
        "max_ms": round(float(latencies.max()), 3),
    }


def summary(latencies: np.ndarray, seconds: float, cpu: dict[str, float]) -> dict[str, float]:
    """Latency percentiles and throughput; with the CPU seconds the server's processes and this
    client (all its threads) used meanwhile, as cores kept busy: what a second worker process
    could add is bounded by the cores the first leaves idle."""
    return percentiles(latencies) | {
        "requests_per_s": round(len(latencies) / seconds, 1),
        "server_cpu_ms_per_request": round(cpu["server"] / len(latencies) * 1000, 3),
        "server_cores_busy": round(cpu["server"] / seconds, 2),
        "client_cores_busy": round(cpu["client"] / seconds, 2),
    }


@contextmanager
def cpu_used(server: psutil.Process) -> Iterator[dict[str, float]]:
    """CPU seconds (user and system) of ``server`` and its child processes, and of this process,
    over the ``with`` block."""
    before = _server_cpu(server), time.process_time()
    found: dict[str, float] = {}
    yield found
    found["server"] = _server_cpu(server) - before[0]
    found["client"] = time.process_time() - before[1]


def _server_cpu(server: psutil.Process) -> float:
    total = 0.0
    for process in (server, *server.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(
    url: str,
    bodies: list[bytes],
    args: argparse.Namespace,
    server: psutil.Process,
    *,
    modes: tuple[str, ...] = ("sequential", "concurrent"),
) -> dict[str, dict]:
    """Warm-up (by the concurrent clients, so that every worker process gets its share), then
    the sequential run, then the concurrent clients, on distinct leads; the leads of a mode are
    the same whichever modes are measured."""
    warm = args.warmup // args.clients
    concurrently(url, [bodies[c * warm : (c + 1) * warm] for c in range(args.clients)])
    start = args.warmup
    result = {}
    if "sequential" in modes:
        with cpu_used(server) as cpu:
            t = time.perf_counter()
            one = timed_posts(url, bodies[start : start + args.sequential])
            seconds = time.perf_counter() - t
        result["sequential"] = summary(one, seconds, cpu)
    start += args.sequential
    if "concurrent" in modes:
        shares = [
            bodies[start + c * args.per_client : start + (c + 1) * args.per_client]
            for c in range(args.clients)
        ]
        with cpu_used(server) as cpu:
            t = time.perf_counter()
            found = concurrently(url, shares)
            seconds = time.perf_counter() - t
        result["concurrent"] = summary(np.concatenate(found), seconds, cpu)
    return result


def concurrently(url: str, shares: list[list[bytes]]) -> list[np.ndarray]:
    """One client thread per share, each with its own connection, started together."""
    found: list[np.ndarray] = [np.empty(0)] * len(shares)
    gate = threading.Barrier(len(shares))

    def client(c: int) -> None:
        gate.wait()
        found[c] = timed_posts(url, shares[c])

    threads = [threading.Thread(target=client, args=(c,)) for c in range(len(shares))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if any(len(f) != len(s) for f, s in zip(found, shares, strict=True)):
        raise SystemExit("a concurrent client failed")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/lead_scorer"))
    parser.add_argument("--data", type=Path, default=Path("data/raw"))
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="leadscore workers; 0: skip")
    parser.add_argument("--skip-mlflow", action="store_true", help="only measure leadscore")
    parser.add_argument("--metrics-cost", action="store_true", help="metrics on against off")
    parser.add_argument("--rounds", type=int, default=10, help="with --metrics-cost")
    args = parser.parse_args()
    if args.metrics_cost:
        metrics_cost(args)
        return

    load = load_average()
    needed = args.warmup + args.sequential + args.clients * args.per_client
    ours, theirs = request_bodies(args.data, needed, args.as_of)
    if len(ours) < needed:
        raise SystemExit(f"{args.data} holds {len(ours)} leads; this run needs {needed}")
    bin_dir = Path(sys.executable).parent
    leadscore = [str(bin_dir / "leadscore"), "serve", "--model", str(args.model)]
    figures: dict = {"as_of": args.as_of, "cpu_count": os.cpu_count()}
    figures["leadscore"] = served(leadscore, "/health", "/score", ours, args)
    if args.workers > 1:
        argv = [*leadscore, "--workers", str(args.workers)]
        figures[f"leadscore_workers_{args.workers}"] = served(
            argv, "/health", "/score", ours, args, modes=("concurrent",)
        )
    if not args.skip_mlflow:
        mlflow = [str(bin_dir / "mlflow"), "models", "serve",
                  "-m", str(args.model), "--env-manager", "local", "-h", "127.0.0.1"]  # fmt: skip
        figures["mlflow"] = served(mlflow, "/ping", "/invocations", theirs, args, port_flag="-p")
    figures["targets"] = targets(figures, args.workers)
    record(RESULTS / "online.json", figures, comparisons(figures, args), load_at_start=load)


def served(
    argv: list[str],
    health: str,
    path: str,
    bodies: list[bytes],
    args: argparse.Namespace,
    *,
    modes: tuple[str, ...] = ("sequential", "concurrent"),
    port_flag: str = "--port",
) -> dict[str, dict]:
    """One server on a free port, measured by :func:`measure`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving([*argv, port_flag, str(port)], f"{base}{health}", server_env()) as process:
        return measure(f"{base}{path}", bodies, args, psutil.Process(process.pid), modes=modes)


def comparisons(figures: dict, args: argparse.Namespace) -> list[dict]:
    """MLflow's p50 against leadscore's per mode; W workers' throughput and busy server cores
    against one's."""
    found = []
    ours = figures["leadscore"]
    if "mlflow" in figures:
        for mode in ("sequential", "concurrent"):
            found.append(
                comparison(f"mlflow models serve p50, {mode} (ms)",
                           figures["mlflow"][mode]["p50_ms"],
                           f"leadscore serve p50, {mode} (ms)", ours[mode]["p50_ms"])
            )  # fmt: skip
    several = figures.get(f"leadscore_workers_{args.workers}")
    if several is not None:
        measured = (("requests_per_s", "requests/s"), ("server_cores_busy", "server cores busy"))
        for key, label in measured:
            found.append(
                comparison(f"--workers {args.workers}, {args.clients} clients ({label})",
                           several["concurrent"][key],
                           f"--workers 1, {args.clients} clients ({label})",
                           ours["concurrent"][key])
            )  # fmt: skip
    return found


def targets(figures: dict, workers: int) -> dict:
    """Issue 22's targets, each with whether this run met it."""
    ours = figures["leadscore"]
    p99 = ours["sequential"]["p99_ms"]
    found: dict = {"sequential_p99_ms_at_most": TARGET_P99_MS, "p99_met": p99 <= TARGET_P99_MS}
    if "mlflow" in figures:
        ratio = figures["mlflow"]["sequential"]["p50_ms"] / ours["sequential"]["p50_ms"]
        found["sequential_p50_ratio_at_least"] = TARGET_P50_RATIO
        found["p50_ratio_met"] = ratio >= TARGET_P50_RATIO
    several = figures.get(f"leadscore_workers_{workers}")
    if several is not None:
        speedup = several["concurrent"]["requests_per_s"] / ours["concurrent"]["requests_per_s"]
        found["workers_speedup_at_least"] = TARGET_WORKERS_SPEEDUP
        found["workers_speedup_met"] = speedup >= TARGET_WORKERS_SPEEDUP
    return found


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
    load = load_average()
    figures: dict = {"cpu_count": os.cpu_count()}
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
        figures[name] = percentiles(np.concatenate(blocks)) | {
            "p50_ms_per_round": [round(float(np.median(b)), 3) for b in blocks]
        }
    figures["p50_cost_ms"] = round(
        figures["with_metrics"]["p50_ms"] - figures["without_metrics"]["p50_ms"], 3
    )
    counted = comparison("p50 counting for /metrics (ms)", figures["with_metrics"]["p50_ms"],
                         "p50 --no-metrics (ms)", figures["without_metrics"]["p50_ms"])  # fmt: skip
    record(RESULTS / "online_metrics.json", figures, [counted], load_at_start=load)


if __name__ == "__main__":
    main()
