"""The bounded search stays in its bounds, uses the validation window only, and is repeatable."""

import numpy as np
import pandas as pd

from leadscore.config import TrainConfig
from leadscore.tuning import tune


def test_search_is_seeded_bounded_and_repeatable():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    y = (rng.random(3000) < 1 / (1 + np.exp(-(x["a"] - x["b"] * x["c"])))).astype(int)
    cfg = TrainConfig(tuning_trials=3, max_rounds=50, early_stopping_rounds=10)
    best = tune(x[:2000], y[:2000], x[2000:], y[2000:], cfg)
    assert best == tune(x[:2000], y[:2000], x[2000:], y[2000:], cfg)
    assert set(best) == {"num_leaves", "learning_rate", "min_child_samples", "feature_fraction",
                         "lambda_l2"}  # fmt: skip
    assert 3 <= best["num_leaves"] <= 63 and 0.02 <= best["learning_rate"] <= 0.2
