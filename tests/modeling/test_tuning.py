"""The bounded search stays in its bounds, uses the validation window only, and is repeatable."""

import numpy as np
import pandas as pd

from leadscore.config import TrainConfig
from leadscore.modeling.tuning import LEARNING_RATES, learning_rates, search_rows, tune


def test_search_is_seeded_bounded_and_repeatable():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    y = (rng.random(3000) < 1 / (1 + np.exp(-(x["a"] - x["b"] * x["c"])))).astype(int)
    cfg = TrainConfig(tuning_trials=3, max_rounds=50, early_stopping_rounds=10)
    best = tune(x[:2000], y[:2000], x[2000:], y[2000:], cfg=cfg, train_rows=2000)
    assert best == tune(x[:2000], y[:2000], x[2000:], y[2000:], cfg=cfg, train_rows=2000)
    assert set(best) == {"num_leaves", "learning_rate", "min_child_samples", "feature_fraction",
                         "lambda_l2"}  # fmt: skip
    assert 3 <= best["num_leaves"] <= 63 and 0.02 <= best["learning_rate"] <= 0.2


def test_the_search_sees_every_row_of_small_tables_and_whole_leads_of_large_ones():
    train_ids = pd.Series(np.repeat(np.arange(40_000), 3).astype(str))  # 3 snapshots per lead
    valid_ids = pd.Series(np.repeat(np.arange(40_000, 50_000), 3).astype(str))
    keep, judge = search_rows(train_ids, valid_ids, max_rows=150_000, seed=1)
    assert keep.all() and judge.all()

    keep, judge = search_rows(train_ids, valid_ids, max_rows=30_000, seed=1)
    assert abs(keep.sum() + judge.sum() - 30_000) < 1_500
    assert abs(judge.sum() / len(judge) - keep.sum() / len(keep)) < 0.03
    assert (keep.reshape(-1, 3) == keep.reshape(-1, 3)[:, :1]).all()  # a lead's snapshots together
    again, _ = search_rows(train_ids, valid_ids, max_rows=30_000, seed=1)
    other, _ = search_rows(train_ids, valid_ids, max_rows=30_000, seed=2)
    assert (again == keep).all() and (other != keep).any()


def test_large_training_windows_search_higher_learning_rates_only():
    cfg = TrainConfig(tree_max_rows=1000, large_table_min_learning_rate=0.1)
    assert learning_rates(cfg, 1999) == LEARNING_RATES == (0.02, 0.2)  # the demo's range
    assert learning_rates(cfg, 2000) == (0.1, 0.2)
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    y = (rng.random(3000) < 1 / (1 + np.exp(-(x["a"] - x["b"] * x["c"])))).astype(int)
    cfg = cfg.model_copy(update={"tuning_trials": 4, "max_rounds": 50, "early_stopping_rounds": 10})
    small = tune(x[:2000], y[:2000], x[2000:], y[2000:], cfg=cfg, train_rows=1999)
    large = tune(x[:2000], y[:2000], x[2000:], y[2000:], cfg=cfg, train_rows=2000)
    assert small["learning_rate"] < 0.1 <= large["learning_rate"] <= 0.2
