"""The shipped model: early-stopped, optionally refitted on the validation window too."""

import numpy as np
import pandas as pd

from leadscore.config import TrainConfig
from leadscore.modeling.booster import for_window, lgbm_params, train_final, train_model
from leadscore.modeling.training import train_conversion_model


def _drifting(n: int = 9000) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads in time order whose conversion rate climbs while the features stay alike."""
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    drift = np.linspace(-1.5, 0.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x["a"] + 0.5 * x["b"] + drift)))).astype(int)
    return x, y


def test_refit_sees_the_latest_leads_and_keeps_validation_probabilities_out_of_sample():
    x, y = _drifting()
    train, valid, test = slice(0, 5400), slice(5400, 7200), slice(7200, None)
    cfg = TrainConfig(max_rounds=400, early_stopping_rounds=20, min_child_samples=50)
    args = (x[train], y[train], x[valid], y[valid])
    stopped, stopped_valid, best, _ = train_final(*args, cfg=cfg)
    refitted, refitted_valid, _, rounds = train_final(
        *args, cfg=cfg.model_copy(update={"refit": True})
    )

    # calibrate is fitted on these: they must come from the model that never saw the window
    assert np.array_equal(stopped_valid, refitted_valid)
    assert np.array_equal(stopped_valid, stopped.predict(x[valid], num_iteration=best))
    assert not np.allclose(refitted.predict(x[valid]), stopped_valid)
    # as many rounds per training row as early stopping chose
    assert refitted.current_iteration() == rounds == round(best * 7200 / 5400)
    # on a rising conversion rate the refitted model is closer to the latest leads' level
    rate = y[test].mean()
    gap_stopped = abs(stopped.predict(x[test], num_iteration=best).mean() - rate)
    gap_refitted = abs(refitted.predict(x[test]).mean() - rate)
    assert gap_refitted < gap_stopped - 0.02, (gap_refitted, gap_stopped)


def test_large_training_windows_grow_each_tree_on_a_seeded_sample_of_rows():
    cfg = TrainConfig(tree_max_rows=1000, max_rounds=60, early_stopping_rounds=60)
    # a share above one half would cost more per round than every row (see lgbm_params)
    assert "bagging_fraction" not in lgbm_params(cfg, 1999)
    params = lgbm_params(cfg, 4000)
    assert (params["bagging_fraction"], params["bagging_freq"]) == (0.25, 1)
    x, y = _drifting(6000)
    args = (x[:4000], y[:4000], x[4000:], y[4000:])
    sampled = train_model(*args, cfg=cfg).predict(x[4000:])
    # seeded: the same table gives the same trees; and the sample is really used
    assert np.array_equal(train_model(*args, cfg=cfg).predict(x[4000:]), sampled)
    every_row = train_model(*args, cfg=cfg.model_copy(update={"tree_max_rows": 4000}))
    assert not np.allclose(every_row.predict(x[4000:]), sampled)


def _featurized(n: int = 6000) -> pd.DataFrame:
    """A featurized table in arrival order with a text and two numeric features."""
    x, y = _drifting(n)
    split = np.select([np.arange(n) < 0.6 * n, np.arange(n) < 0.8 * n], ["train", "valid"], "test")
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "as_of": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), "min"),
            "a": x["a"],
            "b": x["b"],
            "colour": np.where(x["c"] > 0, "red", "blue"),
            "label": y,
            "split": split,
        }
    )


def test_training_uses_the_two_earlier_windows_and_gives_out_of_sample_validation_probabilities():
    features = _featurized()
    cfg = TrainConfig(max_rounds=200, early_stopping_rounds=20, min_child_samples=50)
    result = train_conversion_model(features, cfg=cfg, train_rows=3600)
    valid = features[features["split"] == "valid"]
    assert result.valid_predictions[["lead_id", "as_of"]].equals(valid[["lead_id", "as_of"]])
    x_valid = result.encoder.transform(valid[["a", "b", "colour"]])
    np.testing.assert_array_equal(
        result.valid_predictions["model_probability"],
        result.booster.predict(x_valid, num_iteration=result.summary["best_iteration"]),
    )
    summary = result.summary
    assert (summary["train_rows"], summary["valid_rows"], summary["features"]) == (3600, 1200, 3)
    assert summary["valid_roc_auc"] > 0.7 and result.tuned == {} and result.cfg == cfg
    searched = train_conversion_model(
        features, cfg=cfg.model_copy(update={"tuning_trials": 2}), train_rows=3600
    )
    assert set(searched.tuned) == {"num_leaves", "learning_rate", "min_child_samples",
                                   "feature_fraction", "lambda_l2"}  # fmt: skip
    assert searched.cfg.num_leaves == searched.tuned["num_leaves"]


def test_large_training_windows_train_at_a_higher_rate_and_stop_sooner():
    """Above twice ``tree_max_rows`` the learning rate is floored and early stopping waits
    less; below it (the demo, X Education) the settings are exactly the configured ones."""
    cfg = TrainConfig(learning_rate=0.03, early_stopping_rounds=100, tree_max_rows=1800)
    assert for_window(cfg, 3599) is cfg
    large = for_window(cfg, 3600)
    assert (large.learning_rate, large.early_stopping_rounds) == (0.1, 30)
    assert for_window(cfg.model_copy(update={"learning_rate": 0.15}), 3600).learning_rate == 0.15
    features = _featurized()  # 3,600 training rows: a large window for tree_max_rows 1,800
    cfg = cfg.model_copy(update={"max_rounds": 400, "min_child_samples": 50})
    result = train_conversion_model(features, cfg=cfg, train_rows=3600)
    assert (result.cfg.learning_rate, result.cfg.early_stopping_rounds) == (0.1, 30)
    small = train_conversion_model(
        features, cfg=cfg.model_copy(update={"tree_max_rows": 1801}), train_rows=3600
    )
    assert small.cfg.learning_rate == 0.03 and small.summary["rounds"] > result.summary["rounds"]
