"""Feature-building throughput on a large generated table, with peak memory.

    python benchmarks/features.py [--leads 1000000] [--events 10000000]

Generates (once, cached under benchmarks/.cache/) a demo lead table and an event log resampled to
the requested size, then, in a fresh process so that the generator's memory does not count,
builds the features of every lead as of one nightly moment through ``build_features``. In the same
process it times a baseline any pandas user would write first: one ``groupby`` count of the events
per lead and type (no windows, recency, decay, or lead fields). Prints JSON: seconds, leads/s,
events/s, baseline seconds, the ratio, and peak RSS; writes benchmarks/results/features.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from recording import RESULTS, comparison, load_average, record

from leadscore.config import GenerateConfig, Params
from leadscore.features import build_features
from leadscore.generate import generate_demo

CACHE = Path(__file__).parent / ".cache"


def prepare(n_leads: int, n_events: int, seed: int) -> Path:
    folder = CACHE / f"features-{n_leads}-{n_events}-{seed}"
    if (folder / "events.parquet").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    demo = generate_demo(GenerateConfig(n_leads=n_leads, seed=seed))
    leads = demo.leads.drop_duplicates("lead_id").drop(columns=["converted", "converted_at"])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(demo.events), n_events)
    events = demo.events.iloc[pick].reset_index(drop=True)
    events["ts"] = events["ts"] + pd.to_timedelta(rng.integers(0, 86_400, n_events), unit="s")
    leads.to_parquet(folder / "leads.parquet")
    events.to_parquet(folder / "events.parquet")
    return folder


def measure(folder: Path) -> dict:
    leads = pd.read_parquet(folder / "leads.parquet")
    events = pd.read_parquet(folder / "events.parquet")
    params = Params()
    as_of = events["ts"].max()
    snapshots = pd.DataFrame({"lead_id": leads["lead_id"], "as_of": as_of})
    start = time.perf_counter()
    events.groupby(["lead_id", "event_type"], observed=True).size()
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    features = build_features(snapshots, leads, events, params.featurize, params.schema_)
    seconds = time.perf_counter() - start
    return {
        "leads": len(leads),
        "events": len(events),
        "features": features.shape[1] - 2,
        "seconds": round(seconds, 2),
        "leads_per_s": round(len(leads) / seconds),
        "events_per_s": round(len(events) / seconds),
        "baseline_groupby_count_seconds": round(baseline, 2),
        "ratio_to_baseline": round(seconds / baseline, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    load = load_average()
    folder = prepare(args.leads, args.events, args.seed)
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(folder)], check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    result = json.loads(done.stdout)
    baseline = ("one pandas groupby count (s)", result["baseline_groupby_count_seconds"])
    figures = [comparison("build_features (s)", result["seconds"], *baseline)]
    record(RESULTS / "features.json", result, figures, load_at_start=load)


if __name__ == "__main__":
    main()
