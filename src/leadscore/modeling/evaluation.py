"""What the held-out evaluation reports: the product, its parts and its baselines side by side.

The test window is touched here only. Everything a user compares across experiments comes out as
metrics (``reports/metrics.json``) and plot tables (reliability before and after calibration,
ROC, precision-recall, lift, cumulative gain, thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.metrics import roc_auc_score

from leadscore.config import EvaluateConfig, ThresholdConfig, TrainConfig
from leadscore.data.leakage import NOT_USABLE
from leadscore.features import CategoryEncoder
from leadscore.modeling.baselines import as_model_input, train_logistic_baseline
from leadscore.modeling.booster import probabilities, train_final
from leadscore.modeling.cold_start import training_conversions
from leadscore.modeling.fit_score import apply_fit_rules
from leadscore.modeling.headroom import headroom, paired_auc_difference
from leadscore.modeling.metrics import classification_metrics, curves, reliability_table
from leadscore.modeling.sampling import describe, keep_mask
from leadscore.modeling.thresholds import BANDS, threshold_table
from leadscore.modeling.training import feature_names

if TYPE_CHECKING:
    from leadscore.scoring.scorer import Scorer

TOP_BAND: tuple[str, ...] = BANDS[:1]  # the leads whose reasons the test scores carry


@dataclass(frozen=True)
class HeldOut:
    """The evaluation's outputs: metrics, plot tables by name, and the test window's scores."""

    metrics: dict
    plots: dict[str, pd.DataFrame]
    scores: pd.DataFrame


def evaluate_held_out(
    features: pd.DataFrame,
    excluded: pd.DataFrame,
    scorer: Scorer,
    truth: pd.DataFrame | None,
    *,
    cfg: EvaluateConfig,
    train_cfg: TrainConfig,
    policy: ThresholdConfig,
) -> HeldOut:
    """Score the test window and put the product next to its parts, the baselines, the best
    achievable (``truth``, demo data only) and what the audit's excluded columns would add.

    Without a model (the cold start) the product is the calibrated fit score: its figures are
    the headline ones, ``cold_start`` says why, and nothing model-only is reported.
    """
    train = features[features["split"] == "train"]
    test = features[features["split"] == "test"].reset_index(drop=True)
    base_rate = float(train["label"].mean())
    scores = scorer.scores_table(test, explain_bands=TOP_BAND).assign(
        label=test["label"].to_numpy(), age_days=test["age_days"]
    )
    metrics = held_out_metrics(scores, base_rate=base_rate, truth=truth, ece_bins=cfg.ece_bins)
    y, p = scores["label"].to_numpy(), scores["probability"].to_numpy()
    p_logistic = _logistic_baseline(features, train, test, cfg=train_cfg)
    metrics["logistic_regression"] = classification_metrics(y, p_logistic, cfg.ece_bins)
    fit_score = apply_fit_rules(test, scorer.fit_rules)["fit_score"]
    before = expit(scorer.blend.logit(scores["model_probability"].to_numpy(), fit_score))
    metrics["blend_before_calibration"] = classification_metrics(y, before, cfg.ece_bins)
    metrics["beats_baselines"] = beats_baselines(metrics)
    metrics["roc_auc_difference"] = {
        "logistic_regression": paired_auc_difference(y, p, p_logistic, test["lead_id"]),
        "fit_only": paired_auc_difference(y, p, scores["fit_score"], test["lead_id"]),
    }
    if truth is not None:
        metrics.update(_headroom(scores.assign(logistic=p_logistic), truth, cfg.ece_bins))
    metrics["training_sample"] = training_sample(train, train_cfg)
    metrics |= _model_notes(
        features, excluded, trained=scorer.booster is not None, cfg=train_cfg, ece_bins=cfg.ece_bins
    )
    plots = {
        "calibration": reliability_table(y, p, cfg.ece_bins),
        "calibration_before": reliability_table(y, before, cfg.ece_bins),
        "calibration_equal_mass": reliability_table(y, p, cfg.ece_bins, "mass"),
        "gain": cumulative_gain(y, p),
        **curves(y, p),
        "thresholds": threshold_table(y, p, policy, scorer.thresholds),
    }
    return HeldOut(metrics=metrics, plots=plots, scores=scores)


def _logistic_baseline(
    features: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, *, cfg: TrainConfig
) -> np.ndarray:
    """The logistic regression's probabilities of the test rows, trained on the same window and
    columns as the model."""
    columns = feature_names(features)
    logistic = train_logistic_baseline(
        train, columns, train["label"].to_numpy(), min_count=cfg.rare_min_count, seed=cfg.seed
    )
    return logistic.predict_proba(as_model_input(test[columns]))[:, 1]


def _model_notes(
    features: pd.DataFrame,
    excluded: pd.DataFrame,
    *,
    trained: bool,
    cfg: TrainConfig,
    ece_bins: int,
) -> dict:
    """Why no model was trained (``cold_start``), or else what the audit's excluded columns
    would have added to it (``excluded_columns_comparison``, when there are any)."""
    if not trained:
        conversions = training_conversions(features)
        return {
            "cold_start": {"train_conversions": conversions, "min_conversions": cfg.min_conversions}
        }
    comparison = excluded_columns_comparison(features, excluded, cfg=cfg, ece_bins=ece_bins)
    return {} if comparison is None else {"excluded_columns_comparison": comparison}


def beats_baselines(metrics: dict) -> bool:
    """Whether the product out-ranks the logistic regression and the fit score alone, and beats
    the log loss of the logistic regression and of the base rate."""
    best_rank = max(metrics["logistic_regression"]["roc_auc"], metrics["fit_only"]["roc_auc"])
    best_loss = min(metrics["logistic_regression"]["log_loss"], metrics["base_rate"]["log_loss"])
    return bool(metrics["roc_auc"] > best_rank and metrics["log_loss"] < best_loss)


def training_sample(train: pd.DataFrame, cfg: TrainConfig) -> dict:
    """How the training window was sampled (all of it, by default) and whether it was refitted."""
    fraction = cfg.non_converter_fraction
    kept = keep_mask(train["lead_id"], train["label"].to_numpy(), fraction, cfg.seed)
    return describe(len(train), int(kept.sum()), fraction, cfg.seed) | {"refit": cfg.refit}


def held_out_metrics(
    scores: pd.DataFrame, *, base_rate: float, truth: pd.DataFrame | None, ece_bins: int
) -> dict:
    """Headline figures are the calibrated blend's; the rest says what each part adds.

    ``scores`` carries the scores table plus ``label``. ``truth`` (demo data only) holds the
    generator's exact probabilities; on the snapshots it covers, its ROC-AUC and log loss are the
    best any model can reach, reported as ``bayes_*`` next to the product's on the same rows.
    """
    y = scores["label"].to_numpy()
    blended = classification_metrics(y, scores["probability"], ece_bins)
    metrics: dict = {**blended, "base_rate_train": base_rate, "rate_test": float(y.mean())}
    if scores["model_probability"].notna().all():  # none without a model (cold start)
        metrics["model_only"] = classification_metrics(y, scores["model_probability"], ece_bins)
    # The fit score is a ranking, not a probability: only its ROC-AUC is comparable.
    metrics["fit_only"] = {"roc_auc": float(roc_auc_score(y, scores["fit_score"]))}
    metrics["base_rate"] = classification_metrics(y, np.full(len(y), base_rate), ece_bins)
    if truth is not None:
        metrics.update(_against_truth(scores, truth, ece_bins))
    return metrics


def _against_truth(scores: pd.DataFrame, truth: pd.DataFrame, ece_bins: int) -> dict:
    joined = _with_truth(scores, truth)
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


def _headroom(scores: pd.DataFrame, truth: pd.DataFrame, ece_bins: int) -> dict:
    """The best achievable, the logistic regression (column ``logistic``) and the product on
    the rows the truth covers (:func:`leadscore.modeling.headroom.headroom`)."""
    joined = _with_truth(scores, truth)
    if joined.empty:
        return {}
    y = joined["label"].to_numpy()
    best, linear, ours = (
        classification_metrics(y, joined[column], ece_bins)
        for column in ("probability_true", "logistic", "probability")
    )
    return {"headroom": headroom(best, linear, ours)}


def _with_truth(scores: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    keys = ["lead_id", "as_of"]
    return scores.merge(truth[[*keys, "probability"]], on=keys, suffixes=("", "_true"))


def cumulative_gain(y: np.ndarray, p: np.ndarray, points: int = 50) -> pd.DataFrame:
    """Share of conversions reached by calling the top x % of leads by score."""
    order = np.argsort(-np.asarray(p), kind="stable")
    hits = np.cumsum(np.asarray(y)[order])
    share = np.linspace(0, 1, points + 1)[1:]
    reached = hits[np.maximum((share * len(order)).astype(int) - 1, 0)] / max(hits[-1], 1)
    return pd.DataFrame({"share_of_leads": share, "share_of_conversions": reached})


def excluded_columns_comparison(
    features: pd.DataFrame, excluded: pd.DataFrame, *, cfg: TrainConfig, ece_bins: int
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
    without = feature_names(features)
    return {
        "label": NOT_USABLE,
        "excluded_features": added,
        "with_excluded": _train_and_judge(frame, [*without, *added], cfg, ece_bins),
        "lead_time_same_settings": _train_and_judge(frame, without, cfg, ece_bins),
    }


def _train_and_judge(frame: pd.DataFrame, columns: list[str], cfg: TrainConfig, bins: int) -> dict:
    train, valid, test = (frame[frame["split"] == s] for s in ("train", "valid", "test"))
    encoder = CategoryEncoder(min_count=cfg.rare_min_count).fit(train[columns])
    booster = train_final(
        encoder.transform(train[columns]),
        train["label"].to_numpy(),
        encoder.transform(valid[columns]),
        valid["label"].to_numpy(),
        cfg=cfg,
    ).booster
    p = probabilities(booster, encoder.transform(test[columns]))
    return classification_metrics(test["label"].to_numpy(), p, bins)
