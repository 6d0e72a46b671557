import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from leadscore.modeling.metrics import (
    classification_metrics,
    curves,
    expected_calibration_error,
    reliability_table,
)


def test_reliability_table_by_hand():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.95, 0.99])
    got = reliability_table(y, p, bins=2)
    expected = pd.DataFrame(
        {
            "bin": [0, 1],
            "bin_lower": [0.0, 0.5],
            "mean_predicted": [0.1, 0.97],
            "fraction_positive": [0.5, 0.5],
            "count": [2, 2],
        }
    )
    assert_frame_equal(got, expected)
    assert expected_calibration_error(y, p, bins=2) == np.float64(0.5 * 0.4 + 0.5 * 0.47)


def test_perfect_and_constant_predictions():
    y = np.array([0, 0, 1, 1])
    perfect = classification_metrics(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert perfect["roc_auc"] == 1.0 and perfect["n"] == 4 and perfect["positives"] == 2
    constant = classification_metrics(y, np.full(4, 0.5))
    assert constant["roc_auc"] == 0.5 and constant["ece"] == 0.0


def test_equal_mass_bins_hold_equal_counts_by_hand():
    y = np.array([0, 0, 1, 0, 1, 1])
    p = np.array([0.01, 0.02, 0.03, 0.5, 0.6, 0.9])
    table = reliability_table(y, p, bins=2, strategy="mass")
    assert table["count"].tolist() == [3, 3]
    assert table["mean_predicted"].tolist() == [0.02, 2.0 / 3]
    assert table["fraction_positive"].tolist() == [1 / 3, 2 / 3]
    ece = expected_calibration_error(y, p, bins=2, strategy="mass")
    assert ece == np.float64(0.5 * abs(0.02 - 1 / 3) + 0.5 * abs(2 / 3 - 2 / 3))


def test_curves_start_and_end_where_they_must():
    y = np.array([0, 1, 0, 1, 1, 0, 0, 0])
    p = np.array([0.1, 0.9, 0.2, 0.8, 0.7, 0.3, 0.4, 0.05])
    got = curves(y, p, points=4)
    assert got["roc"]["tpr"].iloc[-1] == 1.0 and got["roc"]["fpr"].iloc[0] == 0.0
    assert got["lift"]["lift"].iloc[-1] == 1.0
    assert got["lift"]["lift"].iloc[0] == 1.0 / (3 / 8)  # top quarter: 2 of 2 convert
