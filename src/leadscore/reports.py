"""The marketer-facing HTML report: self-contained (charts embedded), rendered from a template."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless, in a pipeline stage
import matplotlib.pyplot as plt
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape


def band_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Share of leads, conversion rate and lift per band, on the held-out window."""
    rate = scores["label"].mean()
    table = scores.groupby("band").agg(leads=("label", "size"), conversion_rate=("label", "mean"))
    table["share"] = table["leads"] / table["leads"].sum()
    table["lift"] = table["conversion_rate"] / max(rate, 1e-12)
    return table.reset_index()


def grade_table(scores: pd.DataFrame) -> pd.DataFrame:
    return (
        scores.groupby("fit_grade")
        .agg(leads=("label", "size"), conversion_rate=("label", "mean"))
        .reset_index()
    )


def render_model_report(
    metrics: dict,
    scores: pd.DataFrame,
    importance: pd.DataFrame,
    reliability: pd.DataFrame,
    gain: pd.DataFrame,
) -> str:
    env = Environment(loader=PackageLoader("leadscore"), autoescape=select_autoescape())
    return env.get_template("model_report.html.j2").render(
        metrics=metrics,
        bands=band_table(scores).to_dict("records"),
        grades=grade_table(scores).to_dict("records"),
        importance=importance.to_dict("records"),
        reliability=reliability.to_dict("records"),
        reliability_png=_png(_reliability_chart(reliability)),
        gain_png=_png(_gain_chart(gain)),
        examples=scores.nlargest(5, "probability")[
            ["score", "band", "fit_grade", "reasons"]
        ].to_dict("records"),
    )


def _reliability_chart(reliability: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.plot(
        reliability["mean_predicted"],
        reliability["fraction_positive"],
        marker="o",
        label="leadscore",
    )
    ax.set(
        xlabel="predicted probability",
        ylabel="observed conversion rate",
        xlim=(0, 1),
        ylim=(0, 1),
        title="Reliability on held-out leads",
    )
    ax.legend()
    return fig


def _gain_chart(gain: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="random order")
    ax.plot(gain["share_of_leads"], gain["share_of_conversions"], label="by leadscore")
    ax.set(
        xlabel="share of leads called (best first)",
        ylabel="share of conversions reached",
        title="Cumulative gain",
    )
    ax.legend()
    return fig


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
