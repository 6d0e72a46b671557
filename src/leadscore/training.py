"""The LightGBM conversion model: deterministic, early-stopped on a later time window."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.config import TrainConfig

# Columns of the featurized table that describe the snapshot rather than the lead.
NON_FEATURES: tuple[str, ...] = (
    "lead_id", "as_of", "created_at", "arrival", "age_days", "label", "split",
)  # fmt: skip


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in NON_FEATURES]


def lgbm_params(cfg: TrainConfig) -> dict:
    """Fixed seed, thread count and ``deterministic`` so a rerun rebuilds the same trees."""
    return {
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.num_leaves,
        "min_data_in_leaf": cfg.min_child_samples,
        "feature_fraction": cfg.feature_fraction,
        "lambda_l2": cfg.lambda_l2,
        "seed": cfg.seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": cfg.num_threads,
        "verbosity": -1,
    }


def train_model(
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_valid: pd.DataFrame,
    y_valid: np.ndarray,
    cfg: TrainConfig,
    weight: np.ndarray | None = None,
) -> lgb.Booster:
    """Fit on the training window, stop when the validation window stops improving.

    ``weight``: per training row, for a sampled training window (see :mod:`leadscore.sampling`).
    """
    train_set = lgb.Dataset(x_train, label=y_train, weight=weight, free_raw_data=False)
    valid_set = lgb.Dataset(x_valid, label=y_valid, reference=train_set)
    return lgb.train(
        lgbm_params(cfg),
        train_set,
        num_boost_round=cfg.max_rounds,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
    )


def gain_importance(booster: lgb.Booster) -> pd.DataFrame:
    gain = booster.feature_importance(importance_type="gain")
    return (
        pd.DataFrame({"feature": booster.feature_name(), "gain": gain / max(gain.sum(), 1e-12)})
        .sort_values("gain", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
