"""The LightGBM booster: its parameters, early-stopped training and the refit on both windows.

Deterministic: a fixed seed, thread count and ``deterministic`` so a rerun rebuilds the same
trees.
"""

from __future__ import annotations

from typing import NamedTuple

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.config import TrainConfig


def large_window(cfg: TrainConfig, rows: int) -> bool:
    """Whether ``rows`` training rows are a large window: at least twice ``cfg.tree_max_rows``,
    where each tree grows on a sample of them and the large-window settings apply."""
    return rows >= 2 * cfg.tree_max_rows


def for_window(cfg: TrainConfig, rows: int) -> TrainConfig:
    """The settings for a training window of ``rows`` rows: ``cfg`` itself, except on a large
    window, whose learning rate is at least ``cfg.large_table_min_learning_rate`` and whose
    early stopping waits ``cfg.large_table_early_stopping_rounds`` rounds.

    A fit's time is its rounds, and early stopping's rounds go as the inverse of the learning
    rate; with that many rows a higher rate costs little validation loss, and so does a shorter
    wait at a rate that moves further per round (the results page has the measurements). The
    demo's and X Education's windows are far smaller and keep ``cfg`` as it is.
    """
    if not large_window(cfg, rows):
        return cfg
    update = {
        "learning_rate": max(cfg.learning_rate, cfg.large_table_min_learning_rate),
        "early_stopping_rounds": min(
            cfg.early_stopping_rounds, cfg.large_table_early_stopping_rounds
        ),
    }
    return cfg.model_copy(update=update)


def lgbm_params(cfg: TrainConfig, rows: int) -> dict:
    """LightGBM's settings for ``rows`` training rows.

    With at least twice ``cfg.tree_max_rows`` rows each tree grows on a seeded random
    ``tree_max_rows`` of them (LightGBM bagging): a round costs its histograms, which grow with
    the rows, so on a very large table a round then costs what it costs on a mid-sized one. The
    share is kept at most one half because only there does LightGBM copy the sample into a
    compact subset; above it a sampled round costs about as much as a full one (the results page
    of the docs has the measurements). Smaller tables are fitted on every row.
    """
    sampled = large_window(cfg, rows)
    bagging = {"bagging_fraction": cfg.tree_max_rows / rows, "bagging_freq": 1} if sampled else {}
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
        **bagging,
    }


def train_model(
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    cfg: TrainConfig,
    weight: np.ndarray | None = None,
) -> lgb.Booster:
    """Fit on the training window, stop when the validation window stops improving.

    ``weight``: per training row, for a sampled training window (see
    :mod:`leadscore.modeling.sampling`).
    """
    train_set = lgb.Dataset(x_train, label=y_train, weight=weight, free_raw_data=False)
    valid_set = lgb.Dataset(x_valid, label=y_valid, reference=train_set)
    return lgb.train(
        lgbm_params(cfg, len(y_train)),
        train_set,
        num_boost_round=cfg.max_rounds,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
    )


class TrainedBooster(NamedTuple):
    """The booster to ship and what its training chose."""

    booster: lgb.Booster
    valid_probability: np.ndarray  # from the early-stopped model, which never saw the window
    best_iteration: int  # chosen by early stopping
    rounds: int  # trees in the shipped model (``best_iteration`` unless refitted)


def train_final(
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    cfg: TrainConfig,
    weight: np.ndarray | None = None,
) -> TrainedBooster:
    """The model to ship, and the validation window's probabilities from a model that did not
    see it (the only ones a blend and a calibrator can honestly be fitted on).

    Early stopping on the validation window chooses the number of rounds. With ``cfg.refit`` the
    same settings are then fitted on both windows together, for as many rounds per training row:
    on a table whose conversion rate drifts, a model that has seen the latest leads keeps its
    probabilities level (the results page has X Education's inner-fold figures).
    """
    booster = train_model(x_train, y_train, x_valid, y_valid, cfg=cfg, weight=weight)
    best = booster.best_iteration
    valid_p = probabilities(booster, x_valid, num_iteration=best)
    if not cfg.refit:
        return TrainedBooster(booster, valid_p, best, best)
    rounds = max(1, round(best * (len(y_train) + len(y_valid)) / len(y_train)))
    both = lgb.Dataset(
        pd.concat([x_train, x_valid]),
        label=np.concatenate([y_train, y_valid]),
        weight=None if weight is None else np.concatenate([weight, np.ones(len(y_valid))]),
    )
    refitted = lgb.train(
        lgbm_params(cfg, len(y_train) + len(y_valid)), both, num_boost_round=rounds
    )
    return TrainedBooster(refitted, valid_p, best, rounds)


def probabilities(
    booster: lgb.Booster, rows: pd.DataFrame | np.ndarray, *, num_iteration: int | None = None
) -> np.ndarray:
    """The booster's conversion probabilities of dense rows, as one array (LightGBM types its
    answer to cover sparse and multi-class inputs too)."""
    return np.asarray(booster.predict(rows, num_iteration=num_iteration))


def shap_values(
    booster: lgb.Booster, rows: pd.DataFrame | np.ndarray, *, threads: int | None = None
) -> np.ndarray:
    """Exact TreeSHAP values of dense rows, features only (the bias column dropped);
    ``threads`` None: LightGBM's default."""
    if threads is None:
        values = booster.predict(rows, pred_contrib=True)
    else:
        values = booster.predict(rows, pred_contrib=True, num_threads=threads)
    return np.asarray(values)[:, :-1]


def split_trees(booster: lgb.Booster, *, first_share: float) -> tuple[lgb.Booster, ...]:
    """The booster's trees as boosters of their own: the first ``first_share`` of the
    iterations, then the rest (the booster itself when it has a single iteration).

    TreeSHAP is a sum over trees, so the parts' values add up to the whole's (in another order of
    floating-point additions: within 1e-14 on the demo's held-out leads), and two threads can
    compute them at once. Each part is a booster of its own because LightGBM keeps a prediction's
    ``start_iteration`` and ``num_iteration`` on the booster while it predicts: two threads asking
    one booster for different trees would each read the other's.
    """
    # the iterations predict uses by default: up to the best one, if early stopping set it
    iterations = (
        booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
    )
    if iterations < 2:
        return (booster,)
    cut = min(max(round(iterations * first_share), 1), iterations - 1)
    first = booster.model_to_string(num_iteration=cut)
    rest = booster.model_to_string(start_iteration=cut, num_iteration=iterations - cut)
    return lgb.Booster(model_str=first), lgb.Booster(model_str=rest)


def gain_importance(booster: lgb.Booster) -> pd.DataFrame:
    """Each feature's share of the total split gain, largest first."""
    gain = booster.feature_importance(importance_type="gain")
    return (
        pd.DataFrame({"feature": booster.feature_name(), "gain": gain / max(gain.sum(), 1e-12)})
        .sort_values("gain", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
