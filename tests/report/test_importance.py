import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from leadscore.report.importance import (
    FIT,
    group_contributions,
    importance_table,
    shap_importance,
)

# Two leads; the arrival moment feeds weekday and time features, pricing views two engagement ones.
CONTRIB = pd.DataFrame(
    {
        "weekday": [0.5, -0.5],
        "hour": [0.25, 0.25],
        "pricing_view_7d": [1.0, -1.0],
        "pricing_view_decayed": [-0.5, 0.5],
        FIT: [0.2, -0.2],
    }
)


def test_signals_sum_contributions_of_one_raw_input_like_the_reasons_do():
    got = group_contributions(CONTRIB, "signal")
    expected = pd.DataFrame(
        {"created_at": [0.75, -0.25], "pricing_view": [0.5, -0.5], FIT: [0.2, -0.2]}
    )
    assert_frame_equal(got, expected)


def test_families_split_the_arrival_moment_into_weekday_and_time():
    got = group_contributions(CONTRIB, "family")
    assert got.to_dict("list") == {
        "weekday": [0.5, -0.5], "time": [0.25, 0.25], "engagement": [0.5, -0.5], FIT: [0.2, -0.2]
    }  # fmt: skip


def test_shap_importance_is_the_mean_absolute_sum_with_shares_per_level():
    got = shap_importance(CONTRIB).set_index(["level", "name"])
    assert got.loc[("signal", "created_at"), "mean_abs_contribution"] == 0.5
    assert got.loc[("signal", "pricing_view"), "mean_abs_contribution"] == 0.5
    assert got.loc[("feature", "pricing_view_7d"), "mean_abs_contribution"] == 1.0
    for level in ("family", "signal", "feature"):
        assert got.loc[level, "share"].sum() == pytest.approx(1.0)
    assert got.loc[("signal", FIT), "share"] == pytest.approx(0.2 / 1.2)


def test_importance_table_describes_rows_in_plain_words_most_important_first():
    shap = shap_importance(CONTRIB)
    permutation = pd.DataFrame(
        {"level": ["signal"], "name": ["pricing_view"], "permutation_auc_drop": [0.03],
         "permutation_auc_drop_std": [0.01]}
    )  # fmt: skip
    table = importance_table(shap, permutation)
    assert table["level"].drop_duplicates().tolist() == ["family", "signal", "feature"]
    signals = table[table["level"] == "signal"].set_index("name")
    assert signals.loc["pricing_view", "description"].startswith("Pricing-page views in the last")
    assert signals.loc["created_at", "family"] == "weekday, time"
    assert signals.loc["pricing_view", "permutation_auc_drop"] == 0.03
    assert pd.isna(signals.loc["created_at", "permutation_auc_drop"])
    features = table[table["level"] == "feature"]
    assert features["mean_abs_contribution"].is_monotonic_decreasing
    assert features.iloc[0]["name"] == "pricing_view_7d"
