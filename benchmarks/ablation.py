"""Feature-family ablation: held-out ROC-AUC with each family removed in turn.

    make run && python benchmarks/ablation.py [--features data/processed/features.parquet]

Retrains the LightGBM model of ``params.yaml`` (same windows, same early stopping) once with every
family and once without each family, and prints the model-only ROC-AUC on the test window, with
the generator's best achievable ROC-AUC on the same window when ``data/raw/truth.parquet`` exists.
Each family's figure is printed beside the all-families ROC-AUC of the same run, and the result
is written to ``benchmarks/results/ablation.json`` (``--out``) with the date and load average.
The figures are ROC-AUCs, not timings: the load changes how long the run takes, not what it gives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from recording import RESULTS, comparison, load_average, record
from sklearn.metrics import roc_auc_score

from leadscore.config import load_params
from leadscore.features import FAMILIES, CategoryEncoder, describe_feature
from leadscore.modeling.booster import train_model
from leadscore.modeling.training import feature_names


def held_out_auc(features: pd.DataFrame, columns: list[str], params) -> float:
    train, valid, test = (features[features["split"] == s] for s in ("train", "valid", "test"))
    encoder = CategoryEncoder(min_count=params.train.rare_min_count).fit(train[columns])
    booster = train_model(
        encoder.transform(train[columns]), train["label"].to_numpy(),
        encoder.transform(valid[columns]), valid["label"].to_numpy(), cfg=params.train,
    )  # fmt: skip
    return roc_auc_score(test["label"], booster.predict(encoder.transform(test[columns])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=Path("data/processed/features.parquet"))
    parser.add_argument("--truth", type=Path, default=Path("data/raw/truth.parquet"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, default=RESULTS / "ablation.json")
    args = parser.parse_args()
    load_at_start = load_average()
    params = load_params(args.params)
    features = pd.read_parquet(args.features)
    columns = feature_names(features)
    family = {c: describe_feature(c).family for c in columns}
    result = {"all_families": round(held_out_auc(features, columns, params), 4)}
    comparisons = []
    for name in FAMILIES:
        kept = [c for c in columns if family[c] != name]
        auc = held_out_auc(features, kept, params)
        result[f"without {name}"] = round(auc, 4)
        result[f"without {name} (change)"] = round(auc - result["all_families"], 4)
        comparisons.append(
            comparison(f"ROC-AUC without {name}", auc, "all families", result["all_families"])
        )
    if args.truth.exists():
        test = features[features["split"] == "test"]
        joined = test.merge(pd.read_parquet(args.truth), on=["lead_id", "as_of"])
        result["best_achievable_on_truth_rows"] = round(
            roc_auc_score(joined["label"], joined["probability"]), 4
        )
    record(args.out, {"roc_auc": result}, comparisons, load_at_start=load_at_start)


if __name__ == "__main__":
    main()
