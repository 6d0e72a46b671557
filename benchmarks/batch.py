"""Nightly batch scoring through the real `leadscore score` path: throughput and peak memory.

    python benchmarks/batch.py [--model models/lead_scorer] [--leads 1000000]
                               [--events 10000000] [--chunk-size 100000] [--workers N]
                               [--large 5000000]

Uses the table of ``features.py`` (generated once into benchmarks/.cache/). Each measurement runs
in its own process tree, and its peak RSS is that of the tree, summed over its processes (see
``process_tree.py``):

- ``leadscore score --workers N`` of the whole table (read Parquet, validate, fetch each chunk's
  events, features, model, blend, calibration, bands, reasons for the top band, write the scores
  table), N the cores this process may use unless given;
- the same with ``--workers 1``, one process, in the same run;
- the same command (N workers) on the first quarter of the leads, with the same event log:
  memory should follow the chunk size, not the table, so the two peaks should be close;
- with ``--large N``, the same command on a table of N leads made by repeating the table with
  new lead ids (written in Parquet's default row groups), with the same event log, so only the
  first copy has events: memory should not grow with N;
- the baseline: plain ``lightgbm.Booster.predict`` of the same model on the already-built,
  already-encoded feature matrix of the same leads (building it is not timed); beside it, for
  information, the compiled model's predict on the same rows.

Prints each figure beside its same-run baseline and their ratio, then JSON (seconds, leads/s,
peak RSS, the worker count, the load average at the start, after each run and at the end), and
writes it to benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from process_tree import measured
from recording import RESULTS, comparison, load_average, record

from features import prepare  # the same cached table as the feature benchmark

AS_OF = "2026-10-01T00:00:00Z"


def in_child(argv: list[str]) -> tuple[float, int, str]:
    """Run a command in a fresh process: wall seconds, the peak RSS of its process tree in MiB
    (summed over its processes), its stdout."""
    run = measured(argv)
    return run["seconds"], run["peak_rss_mib_sum_of_processes"], run["stdout"]


def plain_predict(model: Path, leads: Path, events: Path) -> dict:
    """The baseline, measured inside this (child) process."""
    from leadscore.data.validation import validate_events, validate_leads
    from leadscore.scoring.artifact import load_scorer

    scorer = load_scorer(model)
    as_of = pd.Timestamp(AS_OF)
    valid = validate_leads(
        pd.read_parquet(leads), schema=scorer.schema, now=as_of, future_tolerance_hours=0
    ).valid
    raw = pd.read_parquet(events)
    checked = validate_events(
        raw,
        valid["lead_id"],
        schema=scorer.schema,
        now=pd.Timestamp.now("UTC"),
        future_tolerance_hours=0,
    )
    features = scorer.featurize(valid, checked.valid, as_of)
    encoded = scorer.encoder.transform(features)
    start = time.perf_counter()
    plain = scorer.booster.predict(encoded)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    compiled = scorer.predictor.predict(scorer.encoder.matrix(features))  # conversion included
    compiled_seconds = time.perf_counter() - start
    return {
        "rows": len(encoded),
        "seconds": seconds,
        "compiled_model": type(scorer.predictor).__name__,
        "compiled_seconds": compiled_seconds,
        "max_abs_difference": float(abs(plain - compiled).max()),
    }


def repeat_table(source: Path, n_leads: int, out: Path) -> None:
    """``n_leads`` rows of ``source`` repeated, each copy's lead ids suffixed to stay unique."""
    table = pq.read_table(source)
    with pq.ParquetWriter(out, table.schema) as writer:
        for copy, start in enumerate(range(0, n_leads, len(table))):
            part = table.slice(0, min(len(table), n_leads - start))
            if copy:
                text = part["lead_id"].cast(pa.string())
                ids = pc.binary_join_element_wise(text, f"-{copy}", "")
                ids = ids.cast(part.schema.field("lead_id").type)
                part = part.set_column(part.schema.get_field_index("lead_id"), "lead_id", ids)
            writer.write_table(part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/lead_scorer"))
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--large", type=int, default=0, help="also score a table of N leads")
    parser.add_argument("--baseline", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        print(json.dumps(plain_predict(*args.baseline)))
        return
    load = load_average()  # the machine is shared: say how busy it was
    folder = prepare(args.leads, args.events, args.seed)
    leads, events = folder / "leads.parquet", folder / "events.parquet"
    bin_dir = Path(sys.executable).parent
    loads: dict[str, list[float]] = {}
    pss: dict[str, int] = {}  # each run's peak PSS summed over its processes, MiB
    cpu: dict[str, float] = {}  # each run's CPU seconds summed over its processes
    with tempfile.TemporaryDirectory(prefix="leadscore-bench-") as tmp:
        quarter = Path(tmp) / "quarter.parquet"
        pd.read_parquet(leads).iloc[: args.leads // 4].to_parquet(quarter)

        def score(table: Path, out: str, workers: int) -> tuple[float, int, dict]:
            run = measured([
                str(bin_dir / "leadscore"), "score", "--model", str(args.model),
                "--leads", str(table), "--events", str(events), "--out", str(Path(tmp) / out),
                "--as-of", AS_OF, "--chunk-size", str(args.chunk_size),
                "--max-reject-rate", "1", "--workers", str(workers),
            ])  # fmt: skip
            loads[out] = load_average()
            pss[out] = run["peak_pss_mib_sum_of_processes"]
            cpu[out] = run["cpu_seconds_sum_of_processes"]
            rss = run["peak_rss_mib_sum_of_processes"]
            return run["seconds"], rss, json.loads(run["stdout"])

        whole_s, whole_rss, summary = score(leads, "scores.parquet", args.workers)
        one_s, one_rss, _ = score(leads, "one_worker.parquet", 1)
        quarter_s, quarter_rss, _ = score(quarter, "quarter_scores.parquet", args.workers)
        large = {}
        if args.large:
            table = Path(tmp) / "large.parquet"
            repeat_table(leads, args.large, table)
            large_s, large_rss, large_summary = score(table, "large_scores.parquet", args.workers)
            large = {
                "large_table_leads": large_summary["read"],
                "large_score_seconds": round(large_s, 1),
                "large_score_leads_per_s": round(large_summary["read"] / large_s),
                "large_peak_rss_mib": large_rss,
                "peak_rss_large_over_whole": round(large_rss / whole_rss, 2),
            }
        _, baseline_rss, stdout = in_child(
            [sys.executable, __file__, "--baseline", str(args.model), str(leads), str(events)]
        )
    baseline = json.loads(stdout)
    result = {
        "load_average_at_start": load,
        "load_average_after_each_run": loads,
        "leads": summary["read"],
        "events": args.events,
        "chunk_size": args.chunk_size,
        "workers": args.workers,
        "score_seconds": round(whole_s, 1),
        "score_leads_per_s": round(summary["read"] / whole_s),
        "score_peak_rss_mib": whole_rss,
        "one_worker_score_seconds": round(one_s, 1),
        "one_worker_peak_rss_mib": one_rss,
        "quarter_table_leads": args.leads // 4,
        "quarter_score_seconds": round(quarter_s, 1),
        "quarter_peak_rss_mib": quarter_rss,
        "peak_rss_whole_over_quarter": round(whole_rss / quarter_rss, 2),
        "peak_pss_mib_sum_of_processes": pss,
        "cpu_seconds_sum_of_processes": cpu,
        **large,
        "baseline_plain_predict_rows": baseline["rows"],
        "baseline_plain_predict_seconds": round(baseline["seconds"], 2),
        "baseline_process_peak_rss_mib": baseline_rss,
        "ratio_score_path_to_plain_predict": round(whole_s / baseline["seconds"], 2),
        "compiled_model": baseline["compiled_model"],
        "compiled_predict_seconds_same_rows": round(baseline["compiled_seconds"], 2),
        "compiled_vs_plain_max_abs_difference": baseline["max_abs_difference"],
        "peak_rss_of_this_script_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
    }
    plain = ("plain Booster.predict (s)", baseline["seconds"])
    figures = [
        comparison(f"leadscore score --workers {args.workers}, whole path (s)", whole_s, *plain),
        comparison("leadscore score --workers 1, whole path (s)", one_s, *plain),
        comparison(
            f"leadscore score --workers {args.workers} (s)",
            whole_s,
            "leadscore score --workers 1 (s)",
            one_s,
        ),
        comparison(
            f"CPU seconds --workers {args.workers}, all processes",
            cpu["scores.parquet"],
            "CPU seconds --workers 1",
            cpu["one_worker.parquet"],
        ),
        comparison("compiled model, same rows (s)", baseline["compiled_seconds"], *plain),
        comparison(
            f"peak RSS --workers {args.workers}, whole table (MiB)",
            whole_rss,
            f"peak RSS, {args.leads // 4} leads (MiB)",
            quarter_rss,
        ),
    ]
    record(
        RESULTS / "batch.json", result, figures, load_at_start=result.pop("load_average_at_start")
    )


if __name__ == "__main__":
    main()
