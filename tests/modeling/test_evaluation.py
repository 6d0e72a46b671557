import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from leadscore.config import TrainConfig
from leadscore.modeling.evaluation import (
    beats_baselines,
    cumulative_gain,
    held_out_metrics,
    training_sample,
)

T = pd.Timestamp("2026-01-01", tz="UTC")


def test_cumulative_gain_by_hand():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1])
    got = cumulative_gain(y, p, points=4)
    expected = pd.DataFrame(
        {"share_of_leads": [0.25, 0.5, 0.75, 1.0], "share_of_conversions": [0.5, 0.5, 1.0, 1.0]}
    )
    assert_frame_equal(got, expected)


def test_held_out_metrics_compare_parts_and_truth():
    scores = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d"],
            "as_of": [T] * 4,
            "label": [1, 0, 1, 0],
            "probability": [0.8, 0.3, 0.6, 0.1],
            "model_probability": [0.7, 0.4, 0.35, 0.2],
            "fit_score": [10.0, 90.0, 50.0, 20.0],
        }
    )
    truth = pd.DataFrame(
        {"lead_id": ["a", "b", "c"], "as_of": [T] * 3, "probability": [0.9, 0.2, 0.5]}
    )
    metrics = held_out_metrics(scores, base_rate=0.4, truth=truth, ece_bins=5)
    assert metrics["roc_auc"] == 1.0
    assert metrics["model_only"]["roc_auc"] == 0.75
    assert metrics["fit_only"]["roc_auc"] == 0.25
    assert metrics["base_rate"]["roc_auc"] == 0.5
    assert metrics["bayes_rows"] == 3 and metrics["bayes_roc_auc"] == 1.0
    assert metrics["rate_test"] == 0.5
    assert metrics["base_rate"]["log_loss"] == pytest.approx(-np.log(0.4) / 2 - np.log(0.6) / 2)


def _metrics(product: tuple[float, float], logistic: tuple[float, float]) -> dict:
    return {
        "roc_auc": product[0],
        "log_loss": product[1],
        "logistic_regression": {"roc_auc": logistic[0], "log_loss": logistic[1]},
        "fit_only": {"roc_auc": 0.7},
        "base_rate": {"log_loss": 0.5},
    }


@pytest.mark.parametrize(
    ("product", "logistic", "beats"),
    [
        ((0.82, 0.40), (0.80, 0.41), True),
        ((0.82, 0.42), (0.80, 0.41), False),  # ranks better, but its probabilities are worse
        ((0.80, 0.40), (0.80, 0.41), False),  # a tie is not a win
        ((0.69, 0.40), (0.60, 0.45), False),  # the fit score alone ranks better
    ],
)
def test_beating_the_baselines_takes_both_ranking_and_log_loss(product, logistic, beats):
    assert beats_baselines(_metrics(product, logistic)) is beats


def test_the_training_sample_is_described_with_the_refit_flag():
    train = pd.DataFrame({"lead_id": [str(i) for i in range(1000)], "label": [1] * 100 + [0] * 900})
    whole = training_sample(train, TrainConfig())
    assert whole["train_rows_kept"] == 1000 and whole["refit"] is False
    half = training_sample(train, TrainConfig(non_converter_fraction=0.5, refit=True))
    assert 100 + 380 < half["train_rows_kept"] < 100 + 520 and half["refit"] is True
    assert half["non_converter_weight"] == 2.0
