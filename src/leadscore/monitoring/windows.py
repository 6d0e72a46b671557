"""Realized performance per window of scoring nights, and the retrain signal.

A window is a week of nights (Monday to Sunday, UTC) or one night (``monitor.window``). It is
*complete* once the horizon of its last possible score has closed; only complete windows are
measured, so a window's figures do not change as later outcomes arrive. Each gets the figures of
the held-out evaluation (:func:`leadscore.modeling.metrics.classification_metrics`: ROC-AUC, ECE,
Brier, log loss), the ROC-AUC's 95 % confidence interval, predicted against observed conversion
rate, and each band's precision and recall. A window with enough leads and both outcomes is
*judged*: it is flagged when its ROC-AUC is below ``monitor.min_roc_auc`` or its ECE above
``monitor.max_ece``, and the latest judged window decides the retrain signal.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from leadscore.config import MonitorConfig
from leadscore.modeling.metrics import classification_metrics
from leadscore.modeling.thresholds import BANDS

Z_95 = 1.959964  # the normal quantile of a two-sided 95 % interval


def window_start(as_of: pd.Series, window: str) -> pd.Series:
    """The window each scoring moment falls in, named by its first night (UTC midnight): the
    Monday of its week, or the night itself."""
    night = as_of.dt.tz_convert("UTC").dt.floor("D")
    if window == "week":
        night = night - pd.to_timedelta(night.dt.day_of_week, unit="D")
    return night


def auc_interval(auc: float, positives: int, negatives: int) -> tuple[float, float]:
    """95 % interval of a ROC-AUC by Hanley and McNeil's (1982) standard error, which needs only
    the AUC and the two class sizes; clipped to [0, 1]."""
    if positives == 0 or negatives == 0:
        return math.nan, math.nan
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    half = Z_95 * math.sqrt(max(variance, 0.0))
    return max(auc - half, 0.0), min(auc + half, 1.0)


def band_figures(y: np.ndarray, band: np.ndarray) -> dict[str, dict]:
    """Per band: leads, conversions, precision (share of its leads that converted) and recall
    (share of all conversions it holds); NaN where there is nothing to divide by."""
    total = int(y.sum())
    out = {}
    for name in BANDS:
        inside = band == name
        leads, hits = int(inside.sum()), int(y[inside].sum())
        out[name] = {
            "leads": leads,
            "conversions": hits,
            "precision": hits / leads if leads else math.nan,
            "recall": hits / total if total else math.nan,
        }
    return out


def window_figures(frame: pd.DataFrame, *, cfg: MonitorConfig, ece_bins: int) -> dict:
    """The figures of one window's judged scores (``y``, ``probability``, ``band``)."""
    y = frame["y"].to_numpy(dtype="float64")
    p = frame["probability"].to_numpy(dtype="float64")
    positives, leads = int(y.sum()), len(y)
    judged = leads >= cfg.min_leads and 0 < positives < leads
    metrics = classification_metrics(y, p, ece_bins) if judged else {}
    auc, ece = metrics.get("roc_auc", math.nan), metrics.get("ece", math.nan)
    low, high = auc_interval(auc, positives, leads - positives) if judged else (math.nan,) * 2
    reasons = []
    if judged and auc < cfg.min_roc_auc:
        reasons.append(f"realized ROC-AUC {auc:.3f} < monitor.min_roc_auc {cfg.min_roc_auc}")
    if judged and ece > cfg.max_ece:
        reasons.append(f"ECE {ece:.3f} > monitor.max_ece {cfg.max_ece}")
    return {
        "leads": leads,
        "conversions": positives,
        "predicted_rate": float(p.mean()),
        "observed_rate": positives / leads,
        "roc_auc": auc,
        "roc_auc_low": low,
        "roc_auc_high": high,
        "ece": ece,
        "brier": metrics.get("brier", math.nan),
        "log_loss": metrics.get("log_loss", math.nan),
        "bands": band_figures(y, frame["band"].astype("str").to_numpy()),
        "nights": int(frame["as_of"].dt.floor("D").nunique()),
        "model_versions": sorted(frame["model_version"].astype("str").unique().tolist()),
        "judged": judged,
        "flagged": bool(reasons),
        "reasons": reasons,
    }


def realized_windows(
    judged: pd.DataFrame,
    *,
    cfg: MonitorConfig,
    horizon_days: float,
    now: pd.Timestamp,
    ece_bins: int,
) -> tuple[dict[str, dict], int]:
    """Figures per complete window, by its first night (``YYYY-MM-DD``), oldest first; and the
    number of judged scores that wait in windows not complete yet."""
    start = window_start(judged["as_of"], cfg.window)
    length = pd.Timedelta(days=7 if cfg.window == "week" else 1)
    complete = start + length + pd.Timedelta(days=horizon_days) <= now
    windows = {
        first.date().isoformat(): window_figures(rows, cfg=cfg, ece_bins=ece_bins)
        for first, rows in judged[complete.to_numpy()].groupby(start[complete], sort=True)
    }
    return windows, int((~complete).sum())


def retrain_signal(windows: dict[str, dict]) -> tuple[str | None, list[str]]:
    """The latest judged window and, when it is flagged, why a retrain is due."""
    latest = [name for name, figures in windows.items() if figures["judged"]]
    if not latest:
        return None, []
    return latest[-1], windows[latest[-1]]["reasons"]
