"""The monitoring page's charts, drawn with the report's palette and embedded as PNG by
:func:`leadscore.report.charts.png`; each draws a table of ``monitoring.json`` and computes
nothing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from leadscore.report.charts import BLUE, GREY, ORANGE

PSI_SHIFT, PSI_CHANGE = 0.1, 0.25  # the usual rule of thumb (see leadscore.scoring.drift)


def auc_chart(windows: pd.DataFrame, minimum: float) -> plt.Figure:
    """Realized ROC-AUC per window with its 95 % interval, and the retrain threshold."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    judged = windows[windows["judged"]]
    auc = judged["roc_auc"]
    ax.errorbar(
        judged.index,
        auc,
        yerr=[auc - judged["roc_auc_low"], judged["roc_auc_high"] - auc],
        marker="o",
        color=BLUE,
        capsize=3,
        label="realized ROC-AUC (95 % interval)",
    )
    ax.axhline(minimum, ls="--", color=ORANGE, label=f"monitor.min_roc_auc {minimum}")
    ax.set(xlabel="window (first night)", ylabel="ROC-AUC", ylim=(0.4, 1.0))
    ax.tick_params(axis="x", rotation=45)
    ax.legend(loc="lower left")
    return fig


def rate_chart(windows: pd.DataFrame) -> plt.Figure:
    """Predicted against observed conversion rate per window: calibration over time."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(windows.index, windows["predicted_rate"], marker="o", color=BLUE, label="predicted")
    ax.plot(windows.index, windows["observed_rate"], marker="s", color=ORANGE, label="observed")
    ax.set(xlabel="window (first night)", ylabel="conversion rate", ylim=(0, None))
    ax.tick_params(axis="x", rotation=45)
    ax.legend(loc="upper left")
    return fig


def drift_chart(runs: pd.DataFrame) -> plt.Figure:
    """PSI of the score and the largest feature PSI per night, against the rule of thumb."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(runs.index, runs["psi_probability"], marker="o", color=BLUE, label="score")
    ax.plot(runs.index, runs["psi_max_feature"], marker=".", color=GREY, label="largest feature")
    ax.axhline(PSI_SHIFT, ls=":", color=ORANGE)
    ax.axhline(PSI_CHANGE, ls="--", color=ORANGE, label=f"{PSI_SHIFT} shift / {PSI_CHANGE} change")
    ax.set(xlabel="night", ylabel="PSI against training", ylim=(0, None))
    ax.xaxis.set_major_locator(plt.MaxNLocator(8))
    ax.tick_params(axis="x", rotation=45)
    ax.legend(loc="upper left")
    return fig
