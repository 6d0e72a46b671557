"""Threshold policies on small hand-checked examples."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from leadscore.config import ThresholdConfig
from leadscore.errors import ConfigError
from leadscore.modeling.thresholds import (
    assign_band,
    choose_thresholds,
    daily_volume,
    threshold_table,
)

P = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
Y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])


@pytest.mark.parametrize("n", [1, 3, 7])
def test_capacity_flags_exactly_the_top_n(n):
    policy = ThresholdConfig(policy="capacity", capacity_per_day=n)
    cuts = choose_thresholds(P, leads_per_day=len(P), policy=policy)
    flagged = assign_band(P, cuts) == "sales_ready"
    assert flagged.sum() == n and flagged[:n].all()


def test_capacity_above_volume_makes_every_lead_sales_ready():
    cuts = choose_thresholds(P, leads_per_day=5, policy=ThresholdConfig(capacity_per_day=500))
    assert (assign_band(P, cuts) == "sales_ready").all()


def test_precision_policy_flags_the_most_leads_that_keep_the_target():
    # precision of the top k: 1, 1, .67, .75, .6, .5, .57, .5, .44, .4
    cuts = choose_thresholds(
        P,
        leads_per_day=10,
        policy=ThresholdConfig(policy="precision", target_precision=0.55),
        label=Y,
    )
    assert cuts["sales_ready"] == 0.3  # top 7 convert at 4/7 = 0.57
    strict = choose_thresholds(
        P,
        leads_per_day=10,
        policy=ThresholdConfig(policy="precision", target_precision=0.9),
        label=Y,
    )
    assert strict["sales_ready"] == 0.8
    with pytest.raises(ValueError, match="labels"):
        choose_thresholds(P, leads_per_day=10, policy=ThresholdConfig(policy="precision"))


def test_expected_value_and_marketing_break_even():
    policy = ThresholdConfig(
        policy="expected_value", value_per_conversion=1000, cost_per_contact=250,
        marketing_cost_per_contact=50,
    )  # fmt: skip
    cuts = choose_thresholds(P, leads_per_day=10, policy=policy)
    assert (cuts["sales_ready"], cuts["marketing_qualified"]) == (0.25, 0.05)
    bands = assign_band(np.array([0.3, 0.25, 0.1, 0.04]), cuts)
    assert bands.tolist() == ["sales_ready", "sales_ready", "marketing_qualified", "nurture"]


def test_fixed_cut_offs_are_used_as_given_and_checked():
    policy = ThresholdConfig(policy="fixed", fixed={"sales_ready": 0.6, "marketing_qualified": 0.2})
    cuts = choose_thresholds(P, leads_per_day=10, policy=policy)
    assert (cuts["sales_ready"], cuts["marketing_qualified"]) == (0.6, 0.2)
    with pytest.raises(ValidationError, match="marketing_qualified <= sales_ready"):
        ThresholdConfig(policy="fixed", fixed={"sales_ready": 0.1, "marketing_qualified": 0.2})


def test_threshold_table_by_hand():
    policy = ThresholdConfig(value_per_conversion=100, cost_per_contact=10)
    chosen = {"sales_ready": 0.7, "marketing_qualified": 0.3}
    table = threshold_table(Y, P, policy, chosen, grid=10)
    row = table[table["chosen_for"] == "sales_ready"].iloc[0]
    assert row["share_flagged"] == 0.3 and row["precision"] == pytest.approx(2 / 3)
    assert row["recall"] == 0.5 and row["lift"] == pytest.approx((2 / 3) / 0.4)
    assert row["expected_conversions"] == pytest.approx(2.4)
    assert row["expected_value"] == pytest.approx(2.4 * 100 - 3 * 10)
    assert (table["chosen_for"] == "").sum() == 10


def test_daily_volume_counts_leads_per_day_of_the_window_and_needs_time_only_for_capacity():
    start = pd.Timestamp("2026-03-01", tz="UTC")
    created = pd.Series(start + pd.to_timedelta([0, 2, 5, 10], unit="D"))
    assert daily_volume(created, 40, policy=ThresholdConfig()) == 4.0
    same_hour = pd.Series([start, start])
    assert daily_volume(same_hour, 3, policy=ThresholdConfig()) == 3.0  # at least one day
    never = pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]")
    assert np.isnan(daily_volume(never, 5, policy=ThresholdConfig(policy="precision")))
    with pytest.raises(ConfigError, match="'capacity' needs created_at"):
        daily_volume(never, 5, policy=ThresholdConfig(policy="capacity"))
