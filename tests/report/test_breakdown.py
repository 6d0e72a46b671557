import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from leadscore.report.breakdown import conversion_by_value, value_groups


def test_few_numeric_values_each_get_a_group_with_names_for_weekdays():
    got = conversion_by_value(
        pd.Series([0.0, 1.0, 1.0, 6.0, np.nan]), [1, 0, 1, 0, 0], [0.5, -0.1, 0.1, -1.0, 0.0],
        name="weekday",
    )  # fmt: skip
    expected = pd.DataFrame(
        {
            "value": ["Mon", "Tue", "Sun", "not given"],
            "leads": [1, 2, 1, 1],
            "conversions": [1.0, 1.0, 0.0, 0.0],
            "conversion_rate": [1.0, 0.5, 0.0, 0.0],
            "mean_contribution": [0.5, 0.0, -1.0, 0.0],
        }
    )
    assert_frame_equal(got, expected, check_dtype=False)


def test_many_numeric_values_become_ranges_that_keep_a_crowded_zero_alone():
    values = pd.Series([0.0] * 12 + list(range(1, 13)), dtype="float64")
    labels, order = value_groups(values, bins=4)
    assert order[0] == "0"
    assert (labels[values == 0] == "0").all()
    assert order[-1].endswith("12") and "–" in order[-1]
    assert labels.isin(order).all()


def test_text_keeps_the_most_common_levels_then_other_then_missing():
    values = pd.Series(["a", "a", "a", "b", "b", "c", None], dtype="str")
    got = conversion_by_value(values, [1, 1, 0, 0, 0, 1, 0])
    assert got["value"].tolist() == ["a", "b", "c", "not given"]
    labels, order = value_groups(values, max_levels=1)
    assert order == ["a", "other", "not given"]
    assert labels.tolist() == ["a", "a", "a", "other", "other", "other", "not given"]
