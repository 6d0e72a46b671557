"""The marketer-facing model report: the self-contained HTML page, built from the report's tables
(:mod:`leadscore.report.tables`) and the evaluation's outputs, every chart embedded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from leadscore.config import ReportConfig, ThresholdConfig
from leadscore.modeling.fit_score import GRADES
from leadscore.modeling.thresholds import BANDS
from leadscore.report import charts
from leadscore.report.importance import measure_importance
from leadscore.report.tables import (
    SCORE_GROUPS,
    audit_rows,
    band_table,
    calibration_table,
    example_leads,
    grade_score_matrix,
    grade_table,
    lookup,
    signal_breakdowns,
    split_windows,
)
from leadscore.scoring.scorer import Scorer

GAIN_SHARE = 0.2  # "calling the top 20 % of leads reaches X % of conversions"
PLOTS: tuple[str, ...] = ("calibration", "calibration_before", "gain", "thresholds")
BREAKDOWNS = 6  # signals with a chart of conversion by value
EXAMPLES_PER_BAND = 2
SEED = 0


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows; tables are those of this module and of the evaluation."""

    metrics: dict
    metadata: dict
    policy: dict
    windows: pd.DataFrame
    importance: pd.DataFrame
    breakdowns: list[tuple[str, pd.DataFrame]]
    calibration: pd.DataFrame
    gain: pd.DataFrame
    bands: pd.DataFrame
    thresholds: pd.DataFrame
    grades: pd.DataFrame
    matrix: pd.DataFrame
    examples: pd.DataFrame
    top_features: int
    audit: dict  # the validate stage's leakage audit (reports/leakage_audit.json)

    def companions(self) -> dict[str, pd.DataFrame]:
        """The tables written beside the page as CSV, by file name."""
        return {
            "feature_importance.csv": self.importance,
            "thresholds.csv": self.bands,
            "calibration.csv": self.calibration,
        }


def assemble_report(
    scorer: Scorer,
    features: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    metrics: dict,
    metadata: dict,
    plots: dict[str, pd.DataFrame],
    audit: dict,
    policy: ThresholdConfig,
    cfg: ReportConfig,
) -> ReportData:
    """Everything the page shows, from the evaluation's outputs: ``scores`` of the test window
    as evaluate wrote them, and its ``plots`` tables by name (:data:`PLOTS`)."""
    test = features[features["split"] == "test"].reset_index(drop=True)
    importance, contrib = measure_importance(scorer, test, cfg.top_features, seed=SEED)
    calibration = calibration_table(plots["calibration_before"], plots["calibration"], metrics)
    chosen = {"calibration_method": scorer.calibrator.method, "fit_weight": scorer.blend.fit_weight}
    return ReportData(
        metrics=metrics,
        metadata=metadata,
        policy=policy.model_dump() | scorer.thresholds | chosen,
        windows=split_windows(features),
        importance=importance,
        breakdowns=signal_breakdowns(importance, test, contrib, BREAKDOWNS),
        calibration=calibration,
        gain=plots["gain"],
        bands=band_table(scores, scorer.thresholds),
        thresholds=plots["thresholds"],
        grades=grade_table(scores),
        matrix=grade_score_matrix(scores),
        examples=example_leads(scorer, test, scores, EXAMPLES_PER_BAND, SEED),
        top_features=cfg.top_features,
        audit=audit,
    )


def render_model_report(data: ReportData) -> str:
    """The page: plain-language summary first, details after, every chart embedded."""
    gain = data.gain
    reached = float(np.interp(GAIN_SHARE, gain["share_of_leads"], gain["share_of_conversions"]))
    families = data.importance[data.importance["level"] == "family"]
    signals = data.importance[data.importance["level"] == "signal"].head(data.top_features)
    cuts = data.thresholds[data.thresholds["chosen_for"].isin(BANDS)]
    chosen = dict(zip(cuts["chosen_for"], cuts["share_flagged"], strict=True))
    charts_png = {
        "families": charts.png(charts.importance_chart(families, "By family")),
        "signals": charts.png(charts.importance_chart(signals, "By input signal")),
        "breakdowns": [
            charts.png(charts.breakdown_chart(table, title, data.metrics["rate_test"]))
            for title, table in data.breakdowns
        ],
        "reliability": charts.png(charts.reliability_chart(data.calibration)),
        "gain": charts.png(charts.gain_chart(gain, GAIN_SHARE, reached)),
        "tradeoff": charts.png(charts.tradeoff_chart(data.thresholds, chosen)),
    }
    env = Environment(loader=PackageLoader("leadscore.report"), autoescape=select_autoescape())
    env.globals["metric"] = _metric_span(data.metrics)
    return env.get_template("model_report.html.j2").render(
        data=data,
        m=data.metrics,
        families=families.to_dict("records"),
        signals=signals.to_dict("records"),
        breakdowns=[title for title, _ in data.breakdowns],
        bands=data.bands.to_dict("records"),
        grades=data.grades.to_dict("records"),
        matrix=data.matrix.set_index(["fit_grade", "model_score"]).to_dict("index"),
        score_groups=SCORE_GROUPS,
        grade_names=GRADES,
        examples=data.examples.to_dict("records"),
        windows=data.windows.to_dict("records"),
        audit=data.audit,
        audit_rows=audit_rows(data.audit),
        gain_share=GAIN_SHARE,
        gain_reached=reached,
        charts=charts_png,
    )


def _metric_span(metrics: dict):
    """``metric(path, decimals, scale)`` in the template: the figure as shown, tagged with the
    exact value and its path in metrics.json, so a test can hold the page to the metrics."""

    def show(path: str, decimals: int = 3, scale: float = 1.0) -> Markup:
        value = lookup(metrics, path)
        return Markup(
            '<span class="metric" data-metric="{}" data-value="{!r}" data-scale="{}">{}</span>'
        ).format(path, value, scale, f"{value * scale:.{decimals}f}")

    return show
