"""The scorer's reasons: the same whether TreeSHAP runs on a background thread or inline, and
whether its trees are split between two threads or not."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd
import pytest

from leadscore.modeling.booster import shap_values
from leadscore.modeling.thresholds import BANDS
from leadscore.scoring.artifact import load_scorer
from leadscore.scoring.background import background


@pytest.fixture(scope="module")
def held_out(project) -> tuple[object, pd.DataFrame]:
    root = project[0]
    features = pd.read_parquet(root / "data/processed/features.parquet")
    return load_scorer(root / "models/lead_scorer"), features[features["split"] == "test"]


@pytest.mark.slow
def test_reasons_from_the_background_thread_are_the_inline_ones(held_out):
    scorer, features = held_out
    few = features.head(40)
    early = scorer.score(few)  # every row explained: TreeSHAP on the background thread
    inline = scorer.score(few, explain_bands=BANDS)  # every band: the inline path
    assert (early["reasons"] != "").all()
    assert early["reasons"].tolist() == inline["reasons"].tolist()
    for key in ("probability", "fit_score", "band"):
        assert np.array_equal(early[key], inline[key])
    one = [scorer.score(few.iloc[[i]])["reasons"][0] for i in range(len(few))]
    assert one == inline["reasons"].tolist()  # one lead per call, as the API scores


@pytest.mark.slow
def test_the_tree_shares_explain_what_the_whole_model_explains(held_out):
    scorer, features = held_out
    encoded = scorer.encoder.matrix(features.head(300))
    shares = scorer.tree_shares
    assert len(shares) == 2  # the API's calls are explained by two threads
    assert sum(s.num_trees() for s in shares) == scorer.booster.num_trees()
    parts = sum(shap_values(s, encoded) for s in shares)
    assert np.abs(parts - shap_values(scorer.booster, encoded)).max() < 1e-12


def _score_in_child(scorer, features, queue) -> None:
    queue.put(scorer.score(features)["reasons"].tolist())


@pytest.mark.slow
def test_a_forked_process_explains_after_its_parent_used_the_thread(held_out):
    scorer, features = held_out
    few = features.head(5)
    wanted = scorer.score(few)["reasons"].tolist()
    assert background()._threads  # the parent's thread exists, and is not in the child
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_score_in_child, args=(scorer, few, queue))
    child.start()
    try:
        assert queue.get(timeout=60) == wanted  # a pool inherited as it was would never answer
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
