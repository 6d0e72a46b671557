"""Batch scoring of a lead table partitioned by lead id: Dask LocalCluster against one process.

    python benchmarks/dask_batch.py [--model models/lead_scorer] [--leads 5000000]
                                    [--events-per-lead 2] [--partitions 50] [--workers 2]
                                    [--local-workers N]

Generates (once, cached under benchmarks/.cache/) a demo table of ``--leads`` leads: a 200,000
lead demo table copied under new lead ids until it has the requested size, with events resampled
from its event log. It is written twice with the same rows in the same order: sorted by lead id
and split into ``--partitions`` files (leads and events split at the same lead ids), and as one
file each. Then, each in a fresh process:

- the single-machine path: ``score_tables`` of the single files, what ``leadscore score`` runs
  (chunk size 100,000), with ``--local-workers`` worker processes (default: the cores this
  process may use, as ``leadscore score``);
- the Dask path: ``score_partitioned`` of the partitioned folders on a LocalCluster of
  ``--workers`` worker processes with one thread each (what ``leadscore score --engine dask``
  runs, with the cluster size fixed here so the figures say what they measured).

Both times include loading the model (for Dask, in every worker) but not starting the cluster.
Peak memory: for the single-machine path, the summed RSS of its process tree sampled while it
runs (see ``process_tree.py``); for Dask each process's own peak RSS since it started
(``VmHWM`` in /proc), read inside it at the end, summed over every process of the run, the
client (which also hosts the scheduler and, in a LocalCluster, the nannies) and each worker, each
process counted once by its id. A sum of peaks is an upper bound of the cluster's peak (the peaks
need not coincide).

Prints each figure beside its same-run baseline (the single-machine path) and their ratio, then
JSON (seconds, leads/s and peak RSS of each, the worker counts, the load average, and whether
both wrote the same scores), and writes it to benchmarks/results/dask_batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from process_tree import measured
from recording import RESULTS, comparison, load_average, record

CACHE = Path(__file__).parent / ".cache"
AS_OF = "2026-10-01T00:00:00Z"
BASE_LEADS = 200_000


def prepare(n_leads: int, events_per_lead: float, partitions: int, seed: int) -> Path:
    """The benchmark table, partitioned and whole; generated once per size."""
    from leadscore.config import GenerateConfig
    from leadscore.generate import generate_demo

    folder = CACHE / f"dask-{n_leads}-{events_per_lead}-{partitions}-{seed}"
    if (folder / "done").exists():
        return folder
    demo = generate_demo(GenerateConfig(n_leads=min(n_leads, BASE_LEADS), seed=seed))
    base = demo.leads.drop_duplicates("lead_id").drop(columns=["converted", "converted_at"])
    copies = -(-n_leads // len(base))
    leads = pd.concat(
        [base.assign(lead_id=base["lead_id"] + f"-{k:03d}") for k in range(copies)],
        ignore_index=True,
    ).iloc[:n_leads]
    rng = np.random.default_rng(seed)
    n_events = round(n_leads * events_per_lead)
    events = demo.events.iloc[rng.integers(0, len(demo.events), n_events)].reset_index(drop=True)
    events["lead_id"] = events["lead_id"] + pd.Series(rng.integers(0, copies, n_events)).map(
        "-{:03d}".format
    )
    leads = leads.sort_values("lead_id", kind="stable").reset_index(drop=True)
    events = events.sort_values("lead_id", kind="stable").reset_index(drop=True)
    # partition boundaries: every n-th lead id; events go with their lead's partition
    bounds = leads["lead_id"].iloc[np.linspace(0, n_leads, partitions + 1, dtype=int)[1:-1]]
    for name, frame in (("leads", leads), ("events", events)):
        part = np.searchsorted(bounds.to_numpy(), frame["lead_id"].to_numpy(), side="right")
        (folder / name).mkdir(parents=True, exist_ok=True)
        for k, rows in frame.groupby(part, sort=True):
            rows.to_parquet(folder / name / f"part-{k:04d}.parquet", index=False)
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "done").touch()
    return folder


def peak_rss_mib() -> float:
    """This process's own peak RSS since it started (VmHWM; ``ru_maxrss`` would include the
    peak its parent had when it forked, which Linux carries over)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def process_peak() -> tuple[int, float]:
    """This process's id and peak RSS, from inside it (for ``client.run``)."""
    return os.getpid(), peak_rss_mib()


def single_run(model: Path, folder: Path, out: Path, workers: int) -> dict:
    """Runs in its own process (``--single``): what ``leadscore score --workers N`` runs."""
    from leadscore.data.tables import parse_table_uri
    from leadscore.scoring.artifact import load_scorer
    from leadscore.scoring.batch import score_tables
    from leadscore.scoring.options import ScoringOptions

    start = time.perf_counter()
    refs = [parse_table_uri(p) for p in (folder / "leads.parquet", folder / "events.parquet", out)]
    options = ScoringOptions(as_of=pd.Timestamp(AS_OF), max_reject_rate=1.0, workers=workers)
    summary = score_tables(load_scorer(model), *refs, options=options)
    return {"seconds": time.perf_counter() - start, "summary": summary}


def dask_run(model: Path, folder: Path, out: Path, workers: int) -> dict:
    """Runs in its own process (``--dask``): the LocalCluster, the scoring, every peak RSS."""
    from distributed import Client, LocalCluster

    from leadscore.scoring.dask_batch import score_partitioned
    from leadscore.scoring.options import ScoringOptions

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        start = time.perf_counter()
        options = ScoringOptions(as_of=pd.Timestamp(AS_OF), max_reject_rate=1.0)
        summary = score_partitioned(
            model,
            str(folder / "leads"),
            str(folder / "events"),
            str(out),
            options=options,
            client=client,
        )
        seconds = time.perf_counter() - start
        workers = client.run(process_peak)
        nannies = client.run(process_peak, nanny=True)
    # a LocalCluster's nannies run inside this (the client's) process: count each process once
    processes = dict([process_peak(), *workers.values(), *nannies.values()])
    return {
        "seconds": seconds,
        "summary": summary,
        "client_and_scheduler_peak_rss_mib": process_peak()[1],
        "worker_peak_rss_mib": [peak for _, peak in workers.values()],
        "processes": len(processes),
        "peak_rss_mib_sum_of_processes": sum(processes.values()),
    }


def in_child(argv: list[str]) -> dict:
    """This script in a fresh process with ``argv``: the JSON it prints, with the peak RSS of its
    process tree summed over its processes."""
    run = measured([sys.executable, __file__, *argv])
    return json.loads(run["stdout"].splitlines()[-1]) | {
        "sampled_peak_rss_mib_sum": run["peak_rss_mib_sum_of_processes"],
        "sampled_peak_pss_mib_sum": run["peak_pss_mib_sum_of_processes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/lead_scorer"))
    parser.add_argument("--leads", type=int, default=5_000_000)
    parser.add_argument("--events-per-lead", type=float, default=2.0)
    parser.add_argument("--partitions", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--local-workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dask", nargs=3, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--single", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dask or args.single:
        run = (
            dask_run(*args.dask, args.workers)
            if args.dask
            else single_run(*args.single, args.local_workers)
        )
        print(json.dumps(run, default=str))
        return
    load = load_average()
    started = time.perf_counter()
    folder = prepare(args.leads, args.events_per_lead, args.partitions, args.seed)
    prepare_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="run-", dir=CACHE) as tmp:  # not /tmp: shared
        single = in_child(["--local-workers", str(args.local_workers), "--single",
                           str(args.model), str(folder), str(Path(tmp) / "s.parquet")])  # fmt: skip
        dask = in_child(["--workers", str(args.workers), "--dask", str(args.model), str(folder),
                         str(Path(tmp) / "scores")])  # fmt: skip
        a = pd.read_parquet(Path(tmp) / "s.parquet", columns=["lead_id", "probability"])
        b = pd.read_parquet(Path(tmp) / "scores", columns=["lead_id", "probability"])
        a, b = (f.sort_values("lead_id").reset_index(drop=True) for f in (a, b))
        same = (
            bool(a["lead_id"].equals(b["lead_id"]))
            and float((a["probability"] - b["probability"]).abs().max()) <= 1e-9
        )
    leads, events = single["summary"]["read"], single["summary"]["events_read"]
    result = {
        "leads": leads,
        "events_read": events,
        "partitions": args.partitions,
        "cpus": len(os.sched_getaffinity(0)),
        "prepare_seconds_first_run": round(prepare_s, 1),
        "single_machine_seconds": round(single["seconds"], 1),
        "single_machine_leads_per_s": round(leads / single["seconds"]),
        "single_machine_workers": args.local_workers,
        "single_machine_peak_rss_mib_sum_of_processes": single["sampled_peak_rss_mib_sum"],
        "single_machine_peak_pss_mib_sum_of_processes": single["sampled_peak_pss_mib_sum"],
        "dask_workers": args.workers,
        "dask_threads_per_worker": 1,
        "dask_seconds": round(dask["seconds"], 1),
        "dask_leads_per_s": round(dask["summary"]["read"] / dask["seconds"]),
        "dask_processes": dask["processes"],
        "dask_peak_rss_mib_sum_of_processes": round(dask["peak_rss_mib_sum_of_processes"]),
        "dask_worker_peak_rss_mib": [round(v) for v in dask["worker_peak_rss_mib"]],
        "dask_client_and_scheduler_peak_rss_mib": round(dask["client_and_scheduler_peak_rss_mib"]),
        "ratio_dask_to_single_leads_per_s": round(
            dask["summary"]["read"] / dask["seconds"] / (leads / single["seconds"]), 2
        ),
        "same_summary_counts": all(
            dask["summary"][k] == single["summary"][k]
            for k in ("read", "scored", "quarantined", "events_read", "bands")
        ),
        "same_scores_within_1e-9": same,
    }
    single_name = f"leadscore score --workers {args.local_workers}"
    figures = [
        comparison(f"Dask, {args.workers} workers (s)", dask["seconds"],
                   f"{single_name} (s)", single["seconds"]),
        comparison(f"Dask, {args.workers} workers, peak RSS (MiB)",
                   dask["peak_rss_mib_sum_of_processes"], f"{single_name}, peak RSS (MiB)",
                   single["sampled_peak_rss_mib_sum"]),
    ]  # fmt: skip
    record(RESULTS / "dask_batch.json", result, figures, load_at_start=load)


if __name__ == "__main__":
    main()
