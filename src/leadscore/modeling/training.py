"""Training the conversion model on the featurized table: vocabularies, search, final booster.

The training window fits, the later validation window early-stops and judges the search, and
the test window is never read here. The validation window's probabilities come from a booster
that did not see it (see :func:`~leadscore.modeling.booster.train_final`): calibrate fits the
blend and the calibrator on them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.config import ORDER_COLUMN, TrainConfig
from leadscore.features import CategoryEncoder
from leadscore.modeling.booster import TrainedBooster, for_window, probabilities, train_final
from leadscore.modeling.cold_start import no_model_note, training_conversions
from leadscore.modeling.metrics import classification_metrics
from leadscore.modeling.sampling import describe, sample_weights
from leadscore.modeling.tuning import search_rows, tune

log = logging.getLogger(__name__)

# Columns of the featurized table that describe the snapshot rather than the lead; the last,
# the table's ordering column (schema.order_by), only when it has one.
NON_FEATURES: tuple[str, ...] = (
    "lead_id",
    "as_of",
    "created_at",
    "arrival",
    "age_days",
    "label",
    "split",
    ORDER_COLUMN,
)


def feature_names(frame: pd.DataFrame) -> list[str]:
    """The model's input columns of a featurized table, in the table's order."""
    return [c for c in frame.columns if c not in NON_FEATURES]


@dataclass(frozen=True)
class TrainingResult:
    """What training produced: the booster and its vocabularies, the validation window's
    out-of-sample probabilities, the settings the search chose and a summary for the logs."""

    booster: lgb.Booster | None  # None: too few conversions, no model (cold start)
    rounds: int  # trees to save
    encoder: CategoryEncoder
    valid_predictions: pd.DataFrame  # lead_id, as_of, model_probability
    tuned: dict[str, float]
    cfg: TrainConfig  # the settings used, with the search's choices
    sampling: dict
    summary: dict
    no_model_note: str = ""  # what model.txt says in the booster's place (cold start)


def train_conversion_model(
    features: pd.DataFrame, *, cfg: TrainConfig, train_rows: int
) -> TrainingResult:
    """Train on ``features``' training window (sampled as ``cfg.non_converter_fraction`` says,
    ``train_rows`` being its size before sampling), early-stopped on its validation window;
    with fewer than ``cfg.min_conversions`` converted leads there, train no model."""
    fraction = cfg.non_converter_fraction
    train, valid = (features[features["split"] == s] for s in ("train", "valid"))
    columns = feature_names(features)
    encoder = CategoryEncoder(min_count=cfg.rare_min_count).fit(train[columns])
    sampling = describe(train_rows, len(train), fraction, cfg.seed)
    counts = {"train_conversions": training_conversions(features)}
    counts |= {"valid_rows": len(valid), "features": len(columns)}
    if counts["train_conversions"] < cfg.min_conversions:
        return _without_model(valid, encoder, cfg=cfg, sampling=sampling, counts=counts)
    cfg = for_window(cfg, len(train))  # a large window: a higher rate, a shorter wait
    x_train, y_train = encoder.transform(train[columns]), train["label"].to_numpy()
    x_valid, y_valid = encoder.transform(valid[columns]), valid["label"].to_numpy()
    weight = sample_weights(y_train, fraction) if fraction < 1 else None
    started = time.perf_counter()
    tuned, keep = _search(
        (x_train, y_train, train["lead_id"]),
        (x_valid, y_valid, valid["lead_id"]),
        cfg=cfg,
        weight=weight,
    )
    searched = time.perf_counter()
    cfg = cfg.model_copy(update=tuned)
    final = train_final(x_train, y_train, x_valid, y_valid, cfg=cfg, weight=weight)
    seconds = {"search": searched - started, "final": time.perf_counter() - searched}
    timing = "search %.1f s, final training %.1f s (%d rounds on %d rows)"
    rows = len(train) + len(valid) * cfg.refit
    log.info(timing, seconds["search"], seconds["final"], final.rounds, rows)
    # the training metrics on the search's rows: a million-row predict is not worth a diagnostic
    train_p = probabilities(final.booster, x_train[keep])
    summary = _summary(final, y_valid, y_train[keep], train_p, sampling=sampling, seconds=seconds)
    summary |= counts
    predictions = valid[["lead_id", "as_of"]].assign(model_probability=final.valid_probability)
    return TrainingResult(
        booster=final.booster,
        rounds=final.rounds,
        encoder=encoder,
        valid_predictions=predictions,
        tuned=tuned,
        cfg=cfg,
        sampling=sampling,
        summary=summary,
    )


def _without_model(
    valid: pd.DataFrame, encoder: CategoryEncoder, *, cfg: TrainConfig, sampling: dict, counts: dict
) -> TrainingResult:
    """The cold start's result: vocabularies, no booster, no validation probabilities."""
    conversions = counts["train_conversions"]
    log.info("cold start: %d converted leads < train.min_conversions, no model", conversions)
    return TrainingResult(
        booster=None,
        rounds=0,
        encoder=encoder,
        valid_predictions=valid[["lead_id", "as_of"]].assign(model_probability=np.nan),
        tuned={},
        cfg=cfg,
        sampling=sampling,
        summary={
            "cold_start": True,
            "min_conversions": cfg.min_conversions,
            "train_rows": sampling["train_rows_kept"],
        }
        | counts,
        no_model_note=no_model_note(conversions, cfg.min_conversions),
    )


def _search(
    train: tuple[pd.DataFrame, np.ndarray, pd.Series],
    valid: tuple[pd.DataFrame, np.ndarray, pd.Series],
    *,
    cfg: TrainConfig,
    weight: np.ndarray | None,
) -> tuple[dict[str, float], np.ndarray]:
    """The settings the search chose (none without trials) and the training rows it used:
    it fits and judges on at most ``cfg.tuning_max_rows`` rows (all of a mid-sized table)."""
    (x_train, y_train, train_ids), (x_valid, y_valid, valid_ids) = train, valid
    keep, judge = search_rows(train_ids, valid_ids, max_rows=cfg.tuning_max_rows, seed=cfg.seed)
    if not cfg.tuning_trials:
        return {}, keep
    sample_weight = None if weight is None else weight[keep]
    tuned = tune(
        x_train[keep],
        y_train[keep],
        x_valid[judge],
        y_valid[judge],
        cfg=cfg,
        train_rows=len(y_train),
        weight=sample_weight,
    )
    return tuned, keep


def _summary(
    final: TrainedBooster,
    y_valid: np.ndarray,
    y_train: np.ndarray,
    train_p: np.ndarray,
    *,
    sampling: dict,
    seconds: dict[str, float],
) -> dict:
    """What the train stage prints, logs to MLflow and the training benchmark records."""
    valid_metrics = classification_metrics(y_valid, final.valid_probability)
    train_metrics = classification_metrics(y_train, train_p)
    return {
        "best_iteration": final.best_iteration,
        "rounds": final.rounds,
        "train_rows": sampling["train_rows_kept"],
        "train_rows_before_sampling": sampling["train_rows"],
        "non_converter_weight": sampling["non_converter_weight"],
        "train_roc_auc": train_metrics["roc_auc"],
        "train_log_loss": train_metrics["log_loss"],
        "valid_roc_auc": valid_metrics["roc_auc"],
        "valid_log_loss": valid_metrics["log_loss"],
        "search_seconds": round(seconds["search"], 1),
        "final_train_seconds": round(seconds["final"], 1),
    }
