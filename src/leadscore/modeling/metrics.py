"""Held-out metrics: ranking (ROC-AUC, PR-AUC) and honesty of probabilities (log loss, ECE)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

EPS = 1e-6


def reliability_table(
    y: np.ndarray, p: np.ndarray, bins: int = 15, strategy: str = "width"
) -> pd.DataFrame:
    """Bins of predicted probability with the observed rate and count in each.

    ``width``: equal-width bins of [0, 1] (the usual reliability diagram); ``mass``: bins with
    equal numbers of leads, which resolve the crowded low-probability region better.
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if strategy == "width":
        index = np.minimum((p * bins).astype(int), bins - 1)
    else:
        index = np.minimum((np.argsort(np.argsort(p, kind="stable")) * bins) // len(p), bins - 1)
    table = (
        pd.DataFrame({"bin": index, "p": p, "y": y})
        .groupby("bin")
        .agg(
            bin_lower=("p", "min"),
            mean_predicted=("p", "mean"),
            fraction_positive=("y", "mean"),
            count=("y", "size"),
        )
        .reset_index()
    )
    if strategy == "width":
        table["bin_lower"] = table["bin"] / bins
    return table[["bin", "bin_lower", "mean_predicted", "fraction_positive", "count"]]


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, bins: int = 15, strategy: str = "width"
) -> float:
    table = reliability_table(y, p, bins, strategy)
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
        "ece_equal_mass": expected_calibration_error(y, p, ece_bins, "mass"),
        "n": len(y),
        "positives": int(y.sum()),
    }


def curves(y: np.ndarray, p: np.ndarray, points: int = 100) -> dict[str, pd.DataFrame]:
    """ROC, precision-recall and lift curves, thinned to about ``points`` rows for DVC plots."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    fpr, tpr, _ = roc_curve(y, p)
    precision, recall, _ = precision_recall_curve(y, p)
    order = np.argsort(-p, kind="stable")
    share = np.linspace(0, 1, points + 1)[1:]
    top = np.maximum((share * len(p)).astype(int), 1)
    hits = np.cumsum(y[order])[top - 1]
    lift = (hits / top) / max(y.mean(), EPS)
    return {
        "roc": _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr}), points),
        "precision_recall": _thin(pd.DataFrame({"recall": recall, "precision": precision}), points),
        "lift": pd.DataFrame({"share_of_leads": share, "lift": lift}),
    }


def _thin(frame: pd.DataFrame, points: int) -> pd.DataFrame:
    keep = np.unique(np.linspace(0, len(frame) - 1, min(points, len(frame))).astype(int))
    return frame.iloc[keep].reset_index(drop=True)
