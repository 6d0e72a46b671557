"""How far the product is ahead of a baseline, and how much of the room to the best achievable
it takes: the figures behind the report's first box.

**Paired difference.** The ROC-AUC of two scorers on the same held-out rows are correlated, and
so are the snapshots of one lead (ages 0, 1 and 7 share the lead's form and most of its
events). :func:`paired_auc_difference` therefore resamples whole leads, with replacement, and
recomputes both ROC-AUCs on each resample (a seeded paired bootstrap over leads): the spread of
the difference is its standard error, its 2.5th and 97.5th percentiles a 95 % interval.

**Headroom** (demo data only, where the generator's exact probability is known):
:func:`headroom` puts the best achievable next to the best linear model on the same features
(the logistic-regression baseline) and the product, on the same rows: the gap a linear model
leaves, how much of it the product closes, and what is still left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REPLICATES = 1000
SEED = 0


def paired_auc_difference(
    y: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    leads: np.ndarray,
    *,
    replicates: int = REPLICATES,
    seed: int = SEED,
) -> dict:
    """ROC-AUC of ``score_a`` minus that of ``score_b`` on the same rows, with the standard
    error and 95 % interval of a paired bootstrap that resamples whole leads (``leads`` names
    each row's lead)."""
    y = np.asarray(y, dtype="float64")
    lead_code, lead_index = pd.factorize(pd.Series(leads), sort=False)
    groups = [
        np.unique(np.asarray(s, dtype="float64"), return_inverse=True)[1]
        for s in (score_a, score_b)
    ]
    point = [_weighted_auc(y, g, np.ones(len(y))) for g in groups]
    rng = np.random.default_rng(seed)
    differences = np.empty(replicates)
    for r in range(replicates):
        drawn = np.bincount(
            rng.integers(0, len(lead_index), len(lead_index)), minlength=len(lead_index)
        )
        weight = drawn[lead_code].astype("float64")
        differences[r] = _weighted_auc(y, groups[0], weight) - _weighted_auc(y, groups[1], weight)
    standard_error = float(np.std(differences, ddof=1))
    difference = point[0] - point[1]
    low, high = np.percentile(differences, [2.5, 97.5])
    return {
        "difference": difference,
        "standard_error": standard_error,
        "interval_95": {"low": float(low), "high": float(high)},
        "beyond_two_standard_errors": bool(difference > 2 * standard_error),
        "method": "paired bootstrap over leads",
        "replicates": replicates,
        "seed": seed,
        "leads": len(lead_index),
    }


def headroom(best: dict, linear: dict, product: dict) -> dict:
    """Per metric (ROC-AUC, log loss): the best achievable, the linear model and the product on
    the same rows, the gap the linear model leaves, how much of it the product closes (also as a
    share) and what is left. Each argument holds ``roc_auc`` and ``log_loss``."""
    out = {}
    for key, sign in (("roc_auc", 1.0), ("log_loss", -1.0)):
        gap = sign * (best[key] - linear[key])
        closed = sign * (product[key] - linear[key])
        out[key] = {
            "best_achievable": best[key],
            "logistic_regression": linear[key],
            "leadscore": product[key],
            "gap_left_by_linear": gap,
            "closed_by_leadscore": closed,
            "share_closed": closed / gap if gap > 0 else None,  # no gap: nothing to close
            "left_by_leadscore": sign * (best[key] - product[key]),
        }
    return out


def _weighted_auc(y: np.ndarray, group: np.ndarray, weight: np.ndarray) -> float:
    """ROC-AUC with row weights; ``group`` ranks the scores (equal scores share a group, and a
    tie counts one half, as in scikit-learn)."""
    positive = np.bincount(group, weights=weight * y)
    negative = np.bincount(group, weights=weight * (1.0 - y))
    below = np.cumsum(negative) - negative
    pairs = positive.sum() * negative.sum()
    return float(np.sum(positive * (below + 0.5 * negative)) / pairs)
