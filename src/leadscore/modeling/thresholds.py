"""The threshold policy: which calibrated probabilities make a lead sales-ready.

Bands follow business inputs rather than a magic 0.5. The `sales_ready` cut-off comes from one of
four policies: the capacity of the sales team (the top N leads a day), a target precision, the
expected value of a sales call, or a fixed number. `marketing_qualified` leads are those whose
expected value still beats the cost of a marketing touch; the rest are `nurture`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import ThresholdConfig
from leadscore.errors import ConfigError

BANDS: tuple[str, ...] = ("sales_ready", "marketing_qualified", "nurture")


def choose_thresholds(
    probability: np.ndarray,
    *,
    leads_per_day: float,
    policy: ThresholdConfig,
    label: np.ndarray | None = None,
) -> dict[str, float | str]:
    """Lower probability bounds of the bands, from a window of recent calibrated scores.

    ``label`` (the window's outcomes) is needed by the precision policy only.
    """
    p = np.asarray(probability, dtype=float)
    if policy.policy == "capacity":
        sales_ready = top_n_cutoff(p, policy.capacity_per_day / max(leads_per_day, 1e-9) * len(p))
    elif policy.policy == "precision":
        if label is None:
            raise ValueError("the precision policy needs the window's labels")
        sales_ready = precision_cutoff(p, np.asarray(label, dtype=float), policy.target_precision)
    elif policy.policy == "expected_value":
        sales_ready = policy.cost_per_contact / policy.value_per_conversion
    else:
        sales_ready = policy.fixed["sales_ready"]
    if policy.policy == "fixed":
        marketing = policy.fixed["marketing_qualified"]
    else:
        marketing = min(
            policy.marketing_cost_per_contact / policy.value_per_conversion, sales_ready
        )
    return {
        "policy": policy.policy,
        "sales_ready": float(sales_ready),
        "marketing_qualified": float(marketing),
        "leads_per_day": float(leads_per_day),
        "sales_ready_share": float(np.mean(p >= sales_ready)) if len(p) else 0.0,
    }


def daily_volume(created_at: pd.Series, leads: int, *, policy: ThresholdConfig) -> float:
    """Daily lead volume of a window of ``leads`` by their capture moments; without timestamps
    it is unknown (NaN), which only the capacity policy needs."""
    span = created_at.max() - created_at.min()
    if pd.isna(span) and policy.policy == "capacity":
        raise ConfigError(
            "calibrate.thresholds.policy: 'capacity' needs created_at to count leads per day; "
            "this table has none, use 'precision', 'expected_value' or 'fixed'"
        )
    return leads / max(span.total_seconds() / 86400, 1.0) if pd.notna(span) else np.nan


def top_n_cutoff(probability: np.ndarray, n: float) -> float:
    """The score of the N-th best lead: exactly the top N pass (fewer when scores tie there)."""
    count = round(n)
    if count >= len(probability):
        return 0.0
    if count <= 0:
        return float(np.nextafter(probability.max(), np.inf))
    return float(np.sort(probability)[::-1][count - 1])


def precision_cutoff(probability: np.ndarray, label: np.ndarray, target: float) -> float:
    """The lowest cut-off whose flagged leads convert at ``target`` or better (flag the most)."""
    order = np.argsort(-probability, kind="stable")
    p, y = probability[order], label[order]
    precision = np.cumsum(y) / np.arange(1, len(y) + 1)
    last = p[:-1] != p[1:]  # only cut between distinct scores
    ok = np.flatnonzero((precision >= target) & np.append(last, True))
    return float(p[ok[-1]]) if len(ok) else float(np.nextafter(p.max(), np.inf))


def assign_band(probability: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    p = np.asarray(probability, dtype=float)
    return np.select(
        [p >= thresholds["sales_ready"], p >= thresholds["marketing_qualified"]],
        list(BANDS[:2]),
        default=BANDS[2],
    ).astype(object)


def threshold_table(
    label: np.ndarray,
    probability: np.ndarray,
    policy: ThresholdConfig,
    chosen: dict[str, float],
    grid: int = 50,
) -> pd.DataFrame:
    """For a grid of cut-offs and the chosen ones: share flagged, precision, recall, lift,
    expected and actual conversions, and expected value of calling every flagged lead."""
    y, p = np.asarray(label, dtype=float), np.asarray(probability, dtype=float)
    cuts = np.unique(np.quantile(p, np.linspace(0, 1, grid + 1)[:-1]))
    rows = [(float(c), "") for c in cuts]
    rows += [(chosen[band], band) for band in BANDS[:2]]
    base = y.mean() if len(y) else 0.0
    records = []
    for cut, band in rows:
        flagged = p >= cut
        n = int(flagged.sum())
        hits = float(y[flagged].sum())
        records.append(
            {
                "threshold": cut,
                "chosen_for": band,
                "share_flagged": n / max(len(p), 1),
                "precision": hits / n if n else np.nan,
                "recall": hits / max(y.sum(), 1),
                "lift": (hits / n) / base if n and base else np.nan,
                "expected_conversions": float(p[flagged].sum()),
                "actual_conversions": hits,
                "expected_value": float(
                    (p[flagged] * policy.value_per_conversion - policy.cost_per_contact).sum()
                ),
            }
        )
    return pd.DataFrame(records).sort_values("threshold", kind="stable").reset_index(drop=True)
