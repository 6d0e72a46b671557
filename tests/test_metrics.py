import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from leadscore.metrics import classification_metrics, expected_calibration_error, reliability_table


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
