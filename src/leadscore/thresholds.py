"""The threshold policy: which calibrated probabilities make a lead sales-ready.

Bands follow business inputs rather than a magic 0.5: sales can call ``capacity_per_day`` leads,
so `sales_ready` is the top slice that fills that capacity; any lead whose expected deal value
beats the cost of a contact is still worth marketing's effort (`marketing_qualified`).
"""

from __future__ import annotations

import numpy as np

from leadscore.config import ThresholdConfig

BANDS: tuple[str, ...] = ("sales_ready", "marketing_qualified", "nurture")


def choose_thresholds(
    probability: np.ndarray, leads_per_day: float, policy: ThresholdConfig
) -> dict[str, float]:
    """Lower probability bounds of the bands, from a window of recent calibrated scores."""
    share = min(1.0, policy.capacity_per_day / max(leads_per_day, 1e-9))
    sales_ready = float(np.quantile(probability, 1.0 - share)) if share < 1 else 0.0
    break_even = policy.cost_per_contact / policy.value_per_deal
    return {
        "sales_ready": sales_ready,
        "marketing_qualified": min(break_even, sales_ready),
        "leads_per_day": float(leads_per_day),
        "sales_ready_share": share,
    }


def assign_band(probability: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    p = np.asarray(probability, dtype=float)
    return np.select(
        [p >= thresholds["sales_ready"], p >= thresholds["marketing_qualified"]],
        list(BANDS[:2]),
        default=BANDS[2],
    ).astype(object)
