"""Splitting a booster's trees: the parts' TreeSHAP adds up to the whole's."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from leadscore.modeling.booster import shap_values, split_trees


def _booster(rounds: int) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5))
    y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(size=600) > 0).astype(int)
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 1}
    return lgb.train(params, lgb.Dataset(x[:400], y[:400]), num_boost_round=rounds), x[400:]


@pytest.mark.parametrize("share", [0.01, 0.6, 0.99])
def test_the_parts_explain_what_the_whole_explains(share):
    booster, rows = _booster(40)
    parts = split_trees(booster, first_share=share)
    assert len(parts) == 2 and all(p.current_iteration() >= 1 for p in parts)
    assert sum(p.current_iteration() for p in parts) == 40
    total = sum(shap_values(p, rows) for p in parts)
    assert np.abs(total - shap_values(booster, rows)).max() < 1e-12


def test_the_parts_of_a_booster_with_a_best_iteration_are_the_trees_predict_uses():
    booster, rows = _booster(40)
    booster.best_iteration = 25  # as early stopping leaves it on a booster kept training
    parts = split_trees(booster, first_share=0.5)
    assert sum(p.current_iteration() for p in parts) == 25
    total = sum(shap_values(p, rows) for p in parts)
    assert np.abs(total - shap_values(booster, rows)).max() < 1e-12


def test_a_single_tree_is_not_split():
    booster, _ = _booster(1)
    assert split_trees(booster, first_share=0.6) == (booster,)
