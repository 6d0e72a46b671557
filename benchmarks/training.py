"""Training time on a large demo table: the real pipeline stages, against one plain lgb.train.

    python benchmarks/training.py [--leads 1000000] [--set SECTION.KEY=VALUE ...] [--out FILE]
                                  [--keep DIR] [--only STAGE ...]

In a temporary project (this repository's params.yaml and config/, with ``generate.n_leads`` set
to ``--leads``) it runs the pipeline's own commands, read from dvc.yaml, for generate, validate,
featurize and train, each in a fresh process (its own wall time and peak RSS), with the default
training parameters and tuning budget. Generating the demo data is preparation and is reported
but not counted; validate + featurize + train is "training on N leads".

The baseline, in the same run and its own process: one plain ``lightgbm.train`` with LightGBM's
default parameters (100 rounds, 31 leaves, no tuning, no early stopping) on the same encoded
training matrix. Prints JSON and writes benchmarks/results/training.json (or ``--out``), with the
trained model's ROC-AUC and log loss on the validation window (the window early stopping watched,
so a figure to compare runs with ``--set`` overrides by, not a held-out score).

``--keep DIR`` runs in DIR and keeps it (the generated and featurized tables stay), so a later
``--keep DIR --only train`` measures the train stage again on the same table (a comparison of
training settings without generating, validating and featurizing again).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from batch import in_child  # the same child-process measurement
from recording import RESULTS, comparison, load_average, record

REPO = Path(__file__).resolve().parents[1]
STAGES = ("generate", "validate", "featurize", "train")
COUNTED = ("validate", "featurize", "train")


def plain_train(features: Path) -> dict:
    """The baseline, measured inside this (child) process."""
    import lightgbm as lgb
    import pandas as pd

    from leadscore.features import CategoryEncoder
    from leadscore.modeling.training import feature_names

    table = pd.read_parquet(features)
    train = table[table["split"] == "train"]
    columns = feature_names(table)
    x = CategoryEncoder().fit(train[columns]).transform(train[columns])
    start = time.perf_counter()
    lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(x, train["label"].to_numpy()))
    return {"rows": len(x), "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a training parameter for a comparison run, e.g. train.tree_max_rows=9999999",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "training.json")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--only", nargs="+", choices=STAGES, help="stages to run (with --keep)")
    parser.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        print(json.dumps(plain_train(args.baseline)))
        return
    commands = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["generate"]["n_leads"] = args.leads
    for setting in args.set:
        key, value = setting.split("=", 1)
        section, name = key.split(".", 1)
        params[section][name] = yaml.safe_load(value)
    load = load_average()
    if args.keep:
        args.keep = args.keep.resolve()  # the stages run inside it
        args.keep.mkdir(parents=True, exist_ok=True)
        stages = run_stages(args.keep, params, commands, args.only or STAGES)
        baseline_rss, stdout = baseline_run(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="leadscore-train-bench-") as tmp:
            stages = run_stages(Path(tmp), params, commands, STAGES)
            baseline_rss, stdout = baseline_run(Path(tmp))
    baseline = json.loads(stdout)
    counted = sum(stages[s]["seconds"] for s in COUNTED if s in stages)
    result = {
        "leads": args.leads,
        "overrides": args.set,
        "stages": stages,
        "counted_stages": [s for s in COUNTED if s in stages],
        "training_seconds_counted_stages": round(counted, 1),
        "training_peak_rss_mib": max(stages[s]["peak_rss_mib"] for s in COUNTED if s in stages),
        "baseline_plain_lgb_train_rows": baseline["rows"],
        "baseline_plain_lgb_train_seconds": round(baseline["seconds"], 1),
        "baseline_process_peak_rss_mib": baseline_rss,
    }
    plain = ("plain lgb.train seconds", baseline["seconds"])
    figures = [comparison("counted stages seconds", counted, *plain)]
    if "train" in stages:
        train = stages["train"]
        figures.append(comparison("train stage seconds", train["seconds"], *plain))
        result |= {k: train[k] for k in ("valid_log_loss", "valid_roc_auc", "rounds") if k in train}
        print(f"validation log loss {train.get('valid_log_loss')}, ROC-AUC "
              f"{train.get('valid_roc_auc')}, {train.get('rounds')} rounds")  # fmt: skip
    record(args.out, result, figures, load_at_start=load)


def run_stages(root: Path, params: dict, commands: dict, names: tuple[str, ...]) -> dict:
    """Each named stage's seconds and peak RSS, run in ``root`` in a fresh process."""
    bin_dir = Path(sys.executable).parent
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    if not (root / "config").exists():
        subprocess.run(["cp", "-r", str(REPO / "config"), str(root / "config")], check=True)
    env_prefix = [
        "env", f"PATH={bin_dir}:{os.environ['PATH']}",
        f"MLFLOW_TRACKING_URI=sqlite:///{root / 'mlflow.db'}", "OMP_WAIT_POLICY=PASSIVE",
    ]  # fmt: skip
    stages: dict[str, dict] = {}
    for name in names:
        command = shlex.join(shlex.split(commands[name]["cmd"]))
        seconds, rss, out = in_child([*env_prefix, "sh", "-c", f"cd {root} && {command}"])
        stages[name] = {"seconds": round(seconds, 1), "peak_rss_mib": rss}
        if name == "train":  # where the stage's time went: the search, the final fit
            told = json.loads(out)
            kept = ("search_seconds", "final_train_seconds", "rounds", "valid_roc_auc",
                    "valid_log_loss")  # fmt: skip
            stages[name] |= {k: told[k] for k in kept if k in told}
        print(name, stages[name], flush=True)
    return stages


def baseline_run(root: Path) -> tuple[int, str]:
    """The plain lgb.train baseline on ``root``'s featurized table, in its own process."""
    features = root / "data/processed/features.parquet"
    _, rss, stdout = in_child([sys.executable, __file__, "--baseline", str(features)])
    return rss, stdout


if __name__ == "__main__":
    main()
