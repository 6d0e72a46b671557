"""Held-out metrics: ranking (ROC-AUC, PR-AUC) and honesty of probabilities (log loss, ECE)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

EPS = 1e-6


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 15) -> pd.DataFrame:
    """Equal-width bins of predicted probability with the observed rate and count in each."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    table = (
        pd.DataFrame({"bin": index, "p": p, "y": y})
        .groupby("bin")
        .agg(mean_predicted=("p", "mean"), fraction_positive=("y", "mean"), count=("y", "size"))
        .reset_index()
    )
    table["bin_lower"] = table["bin"] / bins
    return table[["bin", "bin_lower", "mean_predicted", "fraction_positive", "count"]]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    table = reliability_table(y, p, bins)
    weights = table["count"] / table["count"].sum()
    return float((weights * (table["mean_predicted"] - table["fraction_positive"]).abs()).sum())


def classification_metrics(y: np.ndarray, p: np.ndarray, ece_bins: int = 15) -> dict[str, float]:
    """All held-out figures for one set of probabilities; ranking-only when they are constant."""
    y, p = np.asarray(y, dtype=float), np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    ranked = len(np.unique(p)) > 1 and len(np.unique(y)) > 1
    return {
        "roc_auc": float(roc_auc_score(y, p)) if ranked else 0.5,
        "pr_auc": float(average_precision_score(y, p)) if ranked else float(y.mean()),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p, ece_bins),
        "n": len(y),
        "positives": int(y.sum()),
    }
