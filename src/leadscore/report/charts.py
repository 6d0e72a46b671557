"""The report's charts: matplotlib figures embedded as PNG data, so the page needs no network.

Each function takes a finished table and only draws it; the numbers come from the report's tables,
which are also written as CSV, so a chart never shows a figure the companions do not hold.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless, in a pipeline stage
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#8c8c8c"


def png(fig: plt.Figure) -> str:
    """The figure as base64 PNG text for an ``<img src="data:...">``; closes the figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def reliability_chart(calibration: pd.DataFrame) -> plt.Figure:
    """Predicted against observed conversion per bin, before and after calibration, with the
    number of leads per bin underneath (a point on ten leads deserves less trust)."""
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6.5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], ls="--", color=GREY, label="perfect calibration")
    width = 0.4 / calibration["bin"].nunique()
    for (curve, table), color, shift in zip(
        calibration.groupby("curve", sort=False),
        (ORANGE, BLUE),
        (-width / 2, width / 2),
        strict=False,
    ):
        top.plot(
            table["mean_predicted"],
            table["fraction_positive"],
            marker="o",
            color=color,
            label=f"{curve} calibration",
        )
        bottom.bar(
            table["bin_lower"] + 1 / (2 * calibration["bin"].nunique()) + shift,
            table["count"],
            width=width,
            color=color,
            label=curve,
        )
    top.set(ylabel="observed conversion rate", ylim=(0, 1), title="Reliability on held-out leads")
    top.legend(loc="upper left")
    bottom.set(xlabel="predicted probability", ylabel="leads", yscale="log", xlim=(0, 1))
    return fig


def gain_chart(gain: pd.DataFrame, share: float, reached: float) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot([0, 1], [0, 1], ls="--", color=GREY, label="random order")
    ax.plot(gain["share_of_leads"], gain["share_of_conversions"], color=BLUE, label="by score")
    ax.plot([share, share, 0], [0, reached, reached], ls=":", color=ORANGE)
    ax.annotate(
        f"top {share:.0%} of leads → {reached:.0%} of conversions",
        (share, reached),
        xytext=(share + 0.05, reached - 0.15),
        arrowprops={"arrowstyle": "->"},
    )
    ax.set(
        xlabel="share of leads called (best score first)",
        ylabel="share of conversions reached",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title="Cumulative gain on held-out leads",
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower right")
    return fig


def importance_chart(table: pd.DataFrame, title: str) -> plt.Figure:
    """Mean absolute contribution and permutation importance side by side, biggest on top."""
    rows = table.iloc[::-1]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(9, 0.32 * len(rows) + 1.2), sharey=True, gridspec_kw={"wspace": 0.05}
    )
    y = np.arange(len(rows))
    left.barh(y, rows["mean_abs_contribution"], color=BLUE)
    left.set(yticks=y, yticklabels=rows["name"], xlabel="mean |contribution| (log-odds)")
    right.barh(
        y,
        rows["permutation_auc_drop"].fillna(0),
        color=ORANGE,
        xerr=rows["permutation_auc_drop_std"].fillna(0),
    )
    right.set(xlabel="ROC-AUC lost when shuffled")
    right.axvline(0, color=GREY, lw=0.8)
    fig.suptitle(title)
    return fig


def breakdown_chart(table: pd.DataFrame, title: str, overall_rate: float) -> plt.Figure:
    """Conversion rate per value (bars, with the number of leads) and the average contribution
    of the signal for that value (line, right axis)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    x = np.arange(len(table))
    bars = ax.bar(x, table["conversion_rate"], color=BLUE, alpha=0.8, label="conversion rate")
    ax.bar_label(bars, labels=[f"{n:,}" for n in table["leads"]], fontsize=7, color=GREY)
    ax.axhline(overall_rate, ls="--", color=GREY, lw=1, label="all held-out leads")
    ax.set(xticks=x, ylabel="conversion rate")
    ax.set_title(title, pad=22)
    ax.set_xticklabels(
        table["value"],
        rotation=30 if len(table) > 6 else 0,
        ha="right" if len(table) > 6 else "center",
        fontsize=8,
    )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    twin = ax.twinx()
    twin.plot(x, table["mean_contribution"], color=ORANGE, marker="o", label="avg contribution")
    twin.axhline(0, color=ORANGE, lw=0.6, alpha=0.5)
    twin.set_ylabel("avg contribution (log-odds)", color=ORANGE)
    handles = [h for a in (ax, twin) for h in a.get_legend_handles_labels()[0]]
    ax.legend(
        handles=handles,
        fontsize=7,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        frameon=False,
    )
    return fig


def tradeoff_chart(thresholds: pd.DataFrame, chosen: dict[str, float]) -> plt.Figure:
    """Precision and recall against the share of leads flagged, with the chosen cut-offs."""
    grid = thresholds[thresholds["chosen_for"].fillna("") == ""].sort_values("share_flagged")
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(grid["share_flagged"], grid["precision"], color=BLUE, label="precision")
    ax.plot(grid["share_flagged"], grid["recall"], color=ORANGE, label="recall")
    for band, share in chosen.items():
        ax.axvline(share, ls=":", color=GREY)
        ax.annotate(
            band.replace("_", " "), (share, 0.95), rotation=90, fontsize=8, ha="right", va="top"
        )
    ax.set(
        xlabel="share of leads flagged (best score first)",
        ylim=(0, 1),
        xlim=(0, 1),
        title="Threshold trade-off on held-out leads",
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="center right")
    return fig
