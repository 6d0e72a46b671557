"""Where the demo's headroom is: information the features lack, or learning from noisy labels?

    make run && python benchmarks/headroom_sources.py

On the validation window only (the test window is not read), with the LightGBM settings of
``params.yaml``: train on the training window, early-stop on the earlier half of the validation
window's leads, judge ROC-AUC on the later half, against the generator's exact probability on
the same rows. Three models:

- ``lightgbm``: the product's model, fitted to the 0/1 labels, as ``train`` fits it;
- ``logistic_regression``: the baseline, on the same features and labels;
- ``lightgbm_on_truth``: the same model fitted to the generator's exact log-odds instead of the
  labels (a regression). What it reaches is what the features can carry at this sample size
  when the noise of 0/1 outcomes is taken away: if it is close to the best achievable, the
  product's gap is not missing information but learning from a few thousand conversions.

Every figure is printed beside the best achievable of the same rows and written to
``benchmarks/results/headroom_sources.json`` (``--out``), per snapshot age too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from recording import RESULTS, comparison, load_average, record
from scipy.special import logit
from sklearn.metrics import roc_auc_score

from leadscore.config import load_params
from leadscore.features import CategoryEncoder
from leadscore.modeling.baselines import as_model_input, train_logistic_baseline
from leadscore.modeling.booster import lgbm_params, train_model
from leadscore.modeling.training import feature_names


def windows(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Training window, the validation window's earlier half of leads, its later half."""
    valid = features[features["split"] == "valid"]
    order = valid.groupby("lead_id")["as_of"].min().sort_values().index
    early = valid["lead_id"].isin(set(order[: len(order) // 2]))
    return features[features["split"] == "train"], valid[early], valid[~early]


def scores(features: pd.DataFrame, params) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The judged rows and each model's scores on them."""
    columns = [c for c in feature_names(features) if c != "probability"]
    train, stop, judged = windows(features)
    encoder = CategoryEncoder(min_count=params.train.rare_min_count).fit(train[columns])
    x = {name: encoder.transform(w[columns]) for name, w in (("t", train), ("s", stop))}
    x_judged = encoder.transform(judged[columns])
    booster = train_model(
        x["t"], train["label"].to_numpy(), x["s"], stop["label"].to_numpy(), cfg=params.train
    )
    baseline = train_logistic_baseline(
        train, columns, train["label"].to_numpy(),
        min_count=params.train.rare_min_count, seed=params.train.seed,
    )  # fmt: skip
    target = {name: logit(np.clip(w["probability"], 1e-6, 1 - 1e-6)) for name, w in
              (("t", train), ("s", stop))}  # fmt: skip
    settings = lgbm_params(params.train, len(train)) | {"objective": "regression"}
    settings.pop("metric", None)
    regression = lgb.train(
        settings,
        lgb.Dataset(x["t"], label=target["t"]),
        num_boost_round=params.train.max_rounds,
        valid_sets=[lgb.Dataset(x["s"], label=target["s"])],
        callbacks=[lgb.early_stopping(params.train.early_stopping_rounds, verbose=False)],
    )
    return judged, {
        "lightgbm": booster.predict(x_judged, num_iteration=booster.best_iteration),
        "logistic_regression": baseline.predict_proba(as_model_input(judged[columns]))[:, 1],
        "lightgbm_on_truth": regression.predict(x_judged, num_iteration=regression.best_iteration),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=Path("data/processed/features.parquet"))
    parser.add_argument("--truth", type=Path, default=Path("data/raw/truth.parquet"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, default=RESULTS / "headroom_sources.json")
    args = parser.parse_args()
    load_at_start = load_average()
    truth = pd.read_parquet(args.truth, columns=["lead_id", "as_of", "probability"])
    features = pd.read_parquet(args.features).merge(truth, on=["lead_id", "as_of"])
    judged, by_model = scores(features, load_params(args.params))
    y, ages = judged["label"].to_numpy(), judged["lead_age_days"].to_numpy()
    result: dict = {"rows": len(judged), "leads": judged["lead_id"].nunique(), "roc_auc": {}}
    comparisons = []
    for age in (None, *np.unique(ages)):
        rows = np.ones(len(y), bool) if age is None else ages == age
        key = "all ages" if age is None else f"age {age:g} days"
        best = roc_auc_score(y[rows], judged["probability"].to_numpy()[rows])
        figures = {name: roc_auc_score(y[rows], s[rows]) for name, s in by_model.items()}
        result["roc_auc"][key] = {"best_achievable": round(best, 4)} | {
            name: round(value, 4) for name, value in figures.items()
        }
        comparisons += [
            comparison(f"{key}: {name}", value, "best achievable", best)
            for name, value in figures.items()
        ]
    record(args.out, result, comparisons, load_at_start=load_at_start)


if __name__ == "__main__":
    main()
