import numpy as np

from leadscore.config import ThresholdConfig
from leadscore.thresholds import assign_band, choose_thresholds


def test_sales_ready_fills_capacity_and_mq_breaks_even():
    p = np.linspace(0, 1, 1001)
    policy = ThresholdConfig(capacity_per_day=10, value_per_deal=1000, cost_per_contact=50)
    cuts = choose_thresholds(p, leads_per_day=100, policy=policy)
    assert cuts["sales_ready_share"] == 0.1
    assert (
        np.mean(p >= cuts["sales_ready"]) == np.float64(0.101)
        or abs(np.mean(p >= cuts["sales_ready"]) - 0.1) < 0.002
    )
    assert cuts["marketing_qualified"] == 0.05
    bands = assign_band(np.array([0.95, 0.5, 0.01]), cuts)
    assert bands.tolist() == ["sales_ready", "marketing_qualified", "nurture"]


def test_capacity_above_volume_makes_every_lead_sales_ready():
    policy = ThresholdConfig(capacity_per_day=500, value_per_deal=1000, cost_per_contact=50)
    cuts = choose_thresholds(np.array([0.1, 0.2]), leads_per_day=100, policy=policy)
    assert assign_band(np.array([0.0, 0.2]), cuts).tolist() == ["sales_ready", "sales_ready"]
