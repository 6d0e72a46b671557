"""Bounded hyperparameter search on the validation window only (Optuna, seeded TPE).

Off by default (``train.tuning_trials: 0``): the defaults are sound, and a search costs a model fit
per trial. When on, each trial is a full early-stopped fit judged by validation log loss; the test
window is never seen, so the held-out figures stay honest.
"""

from __future__ import annotations

import logging

import numpy as np
import optuna
import pandas as pd

from leadscore.config import TrainConfig
from leadscore.modeling.booster import large_window, train_model
from leadscore.modeling.sampling import keep_mask

log = logging.getLogger(__name__)


# the learning rates the search tries, unless the training window is large (learning_rates)
LEARNING_RATES = (0.02, 0.2)


def learning_rates(cfg: TrainConfig, train_rows: int) -> tuple[float, float]:
    """The range of learning rates the search tries for a training window of ``train_rows``.

    The final fit's time is its rounds, and early stopping's rounds go as the inverse of the
    learning rate. On a window large enough for row sampling per tree (at least twice
    ``cfg.tree_max_rows``, see :func:`~leadscore.modeling.booster.lgbm_params`) the search
    starts at ``cfg.large_table_min_learning_rate``: with that many rows a higher rate costs
    little validation loss (the results page has the measurement) and the fit far fewer rounds.
    Smaller windows, the demo among them, keep the full range.
    """
    if large_window(cfg, train_rows):
        return max(LEARNING_RATES[0], cfg.large_table_min_learning_rate), LEARNING_RATES[1]
    return LEARNING_RATES


def tune(
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    cfg: TrainConfig,
    train_rows: int,
    weight: np.ndarray | None = None,
) -> dict[str, float]:
    """The best of ``cfg.tuning_trials`` settings; the same inputs always give the same answer.

    ``train_rows``: the whole training window's size (the search may see a sample of it), which
    sets the range of learning rates tried (:func:`learning_rates`).
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    low, high = learning_rates(cfg, train_rows)

    def objective(trial: optuna.Trial) -> float:
        settings = {
            "num_leaves": trial.suggest_int("num_leaves", 3, 63, log=True),
            "learning_rate": trial.suggest_float("learning_rate", low, high, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 20, 1000, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 50.0, log=True),
        }
        trial_cfg = cfg.model_copy(update=settings)
        booster = train_model(x_train, y_train, x_valid, y_valid, cfg=trial_cfg, weight=weight)
        loss = booster.best_score["valid"]["binary_logloss"]
        trial_name = f"{trial.number + 1}/{cfg.tuning_trials}"
        log.info("tuning trial %s: %s -> %.5f", trial_name, settings, loss)
        return loss

    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.TPESampler(seed=cfg.seed)
    )
    study.optimize(objective, n_trials=cfg.tuning_trials)
    return study.best_params


def search_rows(
    train_ids: pd.Series, valid_ids: pd.Series, *, max_rows: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of the training and validation windows the search fits and judges on.

    Every row when the two windows hold at most ``max_rows``; otherwise a seeded share of the
    leads (all snapshots of a lead together, drawn alike in both windows, so the conversion rate
    and the validation loss are those of the whole windows in expectation). A trial then costs
    what it costs on a mid-sized table, so the default budget of trials fits in minutes on a
    million leads; the hyperparameters found are then used for the final fit on every row.
    """
    rows = len(train_ids) + len(valid_ids)
    if rows <= max_rows:
        return np.ones(len(train_ids), bool), np.ones(len(valid_ids), bool)
    share = max_rows / rows
    nobody = np.zeros(len(train_ids), int), np.zeros(len(valid_ids), int)
    return (
        keep_mask(train_ids, nobody[0], share, seed),
        keep_mask(valid_ids, nobody[1], share, seed),
    )
