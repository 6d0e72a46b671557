"""What the held-out evaluation reports: the product, its parts and its baselines side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.config import TrainConfig
from leadscore.features import CategoryEncoder
from leadscore.leakage import NOT_USABLE
from leadscore.metrics import classification_metrics
from leadscore.training import feature_columns, fit_final


def held_out_metrics(
    scores: pd.DataFrame, base_rate: float, truth: pd.DataFrame | None, ece_bins: int
) -> dict:
    """Headline figures are the calibrated blend's; the rest says what each part adds.

    ``scores`` carries the scores table plus ``label``. ``truth`` (demo data only) holds the
    generator's exact probabilities; on the snapshots it covers, its ROC-AUC and log loss are the
    best any model can reach, reported as ``bayes_*`` next to the product's on the same rows.
    """
    y = scores["label"].to_numpy()
    blended = classification_metrics(y, scores["probability"], ece_bins)
    metrics: dict = {**blended, "base_rate_train": base_rate, "rate_test": float(y.mean())}
    metrics["model_only"] = classification_metrics(y, scores["model_probability"], ece_bins)
    # The fit score is a ranking, not a probability: only its ROC-AUC is comparable.
    metrics["fit_only"] = {"roc_auc": float(roc_auc_score(y, scores["fit_score"]))}
    metrics["base_rate"] = classification_metrics(y, np.full(len(y), base_rate), ece_bins)
    if truth is not None:
        metrics.update(_against_truth(scores, truth, ece_bins))
    return metrics


def _against_truth(scores: pd.DataFrame, truth: pd.DataFrame, ece_bins: int) -> dict:
    joined = scores.merge(truth, on=["lead_id", "as_of"], suffixes=("", "_true"))
    if joined.empty:
        return {}
    y = joined["label"].to_numpy()
    best = classification_metrics(y, joined["probability_true"], ece_bins)
    ours = classification_metrics(y, joined["probability"], ece_bins)
    return {
        "bayes_roc_auc": best["roc_auc"],
        "bayes_log_loss": best["log_loss"],
        "roc_auc_on_bayes_rows": ours["roc_auc"],
        "log_loss_on_bayes_rows": ours["log_loss"],
        "bayes_rows": len(joined),
    }


def cumulative_gain(y: np.ndarray, p: np.ndarray, points: int = 50) -> pd.DataFrame:
    """Share of conversions reached by calling the top x % of leads by score."""
    order = np.argsort(-np.asarray(p), kind="stable")
    hits = np.cumsum(np.asarray(y)[order])
    share = np.linspace(0, 1, points + 1)[1:]
    reached = hits[np.maximum((share * len(order)).astype(int) - 1, 0)] / max(hits[-1], 1)
    return pd.DataFrame({"share_of_leads": share, "share_of_conversions": reached})


def excluded_columns_comparison(
    features: pd.DataFrame, excluded: pd.DataFrame, cfg: TrainConfig, ece_bins: int
) -> dict | None:
    """What the columns the leakage audit excluded would have added, for the report only.

    Two models with the same settings (no tuning; refitted if ``train.refit``) on the same split,
    one with the excluded columns' features (``excluded``, row-aligned with ``features``) and one
    without: their held-out difference is the columns' doing. The first cannot score a new lead,
    since sales fills those columns in after contact; ``None`` when nothing was excluded.
    """
    added = [c for c in excluded.columns if c not in ("lead_id", "as_of")]
    if not added:
        return None
    frame = pd.concat(
        [features.reset_index(drop=True), excluded[added].reset_index(drop=True)], axis=1
    )
    without = feature_columns(features)
    return {
        "label": NOT_USABLE,
        "excluded_features": added,
        "with_excluded": _fit_and_judge(frame, [*without, *added], cfg, ece_bins),
        "lead_time_same_settings": _fit_and_judge(frame, without, cfg, ece_bins),
    }


def _fit_and_judge(frame: pd.DataFrame, columns: list[str], cfg: TrainConfig, bins: int) -> dict:
    train, valid, test = (frame[frame["split"] == s] for s in ("train", "valid", "test"))
    encoder = CategoryEncoder(min_count=cfg.rare_min_count).fit(train[columns])
    booster = fit_final(
        encoder.transform(train[columns]),
        train["label"].to_numpy(),
        encoder.transform(valid[columns]),
        valid["label"].to_numpy(),
        cfg,
    ).booster
    p = booster.predict(encoder.transform(test[columns]))
    return classification_metrics(test["label"].to_numpy(), p, bins)
