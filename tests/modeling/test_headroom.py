"""The paired ROC-AUC difference and the headroom: the figures behind the report's first box."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from leadscore.modeling.headroom import headroom, paired_auc_difference


def _scores(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * signal - 2)))).astype(int)
    return y, signal, signal + rng.normal(scale=1.5, size=n)  # a sharper and a noisier scorer


def test_the_point_difference_is_sklearns_roc_auc_difference():
    y, sharp, noisy = _scores()
    leads = np.arange(len(y)) // 3  # three snapshots per lead
    got = paired_auc_difference(y, sharp, noisy, leads, replicates=200)
    assert got["difference"] == pytest.approx(
        roc_auc_score(y, sharp) - roc_auc_score(y, noisy), abs=1e-12
    )
    assert got["leads"] == 1000


def test_a_clearly_better_scorer_is_beyond_two_standard_errors_and_not_the_reverse():
    y, sharp, noisy = _scores()
    leads = np.arange(len(y))
    better = paired_auc_difference(y, sharp, noisy, leads, replicates=300)
    assert better["beyond_two_standard_errors"]
    assert better["interval_95"]["low"] > 0
    worse = paired_auc_difference(y, noisy, sharp, leads, replicates=300)
    assert not worse["beyond_two_standard_errors"]
    assert worse["standard_error"] == pytest.approx(better["standard_error"], rel=0.2)


def test_the_same_scorer_twice_differs_by_nothing():
    y, sharp, _ = _scores(500)
    same = paired_auc_difference(y, sharp, sharp.copy(), np.arange(500), replicates=100)
    assert same["difference"] == 0 and same["standard_error"] == 0
    assert not same["beyond_two_standard_errors"]


def test_the_bootstrap_is_seeded_and_resamples_whole_leads():
    y, sharp, noisy = _scores()
    by_row = np.arange(len(y))
    one = paired_auc_difference(y, sharp, noisy, by_row, replicates=200, seed=3)
    assert one == paired_auc_difference(y, sharp, noisy, by_row, replicates=200, seed=3)
    # three identical snapshots per lead: resampled as rows they would look three times as
    # many independent leads; resampled by lead, the interval is as wide as the leads allow
    y3, sharp3, noisy3 = (np.repeat(a, 3) for a in (y, sharp, noisy))
    as_rows = paired_auc_difference(y3, sharp3, noisy3, np.arange(len(y3)), replicates=200)
    as_leads = paired_auc_difference(y3, sharp3, noisy3, np.repeat(by_row, 3), replicates=200)
    assert as_leads["standard_error"] > 1.4 * as_rows["standard_error"]


def test_headroom_splits_the_linear_gap_into_closed_and_left():
    best = {"roc_auc": 0.91, "log_loss": 0.17}
    linear = {"roc_auc": 0.88, "log_loss": 0.20}
    product = {"roc_auc": 0.90, "log_loss": 0.18}
    got = headroom(best, linear, product)
    assert got["roc_auc"]["gap_left_by_linear"] == pytest.approx(0.03)
    assert got["roc_auc"]["closed_by_leadscore"] == pytest.approx(0.02)
    assert got["roc_auc"]["share_closed"] == pytest.approx(2 / 3)
    assert got["roc_auc"]["left_by_leadscore"] == pytest.approx(0.01)
    assert got["log_loss"]["gap_left_by_linear"] == pytest.approx(0.03)  # lower is better
    assert got["log_loss"]["share_closed"] == pytest.approx(2 / 3)
    no_gap = headroom(best, best, product)
    assert no_gap["roc_auc"]["share_closed"] is None
