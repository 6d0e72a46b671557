"""The marketer-facing model report: the self-contained HTML page, built from the report's tables
(:mod:`leadscore.report.tables`) and the evaluation's outputs, every chart embedded."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from leadscore.config import ORDER_COLUMN, ReportConfig, ThresholdConfig
from leadscore.modeling.fit_score import GRADES
from leadscore.modeling.thresholds import BANDS
from leadscore.report import charts
from leadscore.report.importance import constant_features, measure_importance
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
    window_order,
)
from leadscore.scoring.scorer import Scorer

GAIN_SHARE = 0.2  # "calling the top 20 % of leads reaches X % of conversions"
PLOTS: tuple[str, ...] = ("calibration", "calibration_before", "gain", "thresholds")
BREAKDOWNS = 6  # signals with a chart of conversion by value
EXAMPLES_PER_BAND = 2
SEED = 0
EMPTY = "—"  # what an empty band or grade shows instead of a figure


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
    windows_by: str  # what orders the windows: created_at, the ordering column, or nothing
    fit_rules_file: str  # the fit-rule file calibrate read (calibrate.fit_rules)

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
    constant = constant_features(features, scorer.encoder.feature_names_in_)
    importance, contrib = measure_importance(
        scorer, test, cfg.top_features, seed=SEED, leave_out=constant
    )
    calibration = calibration_table(plots["calibration_before"], plots["calibration"], metrics)
    chosen = {"calibration_method": scorer.calibrator.method, "fit_weight": scorer.blend.fit_weight}
    params = metadata["params"]
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
        windows_by=_order_words(window_order(features), params["schema"]["order_by"]),
        fit_rules_file=params["calibrate"]["fit_rules"],
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
    env = environment()
    env.globals["metric"] = metric_span(data.metrics)
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


def _order_words(order: str | None, order_by: str | None) -> str:
    """What the windows are ordered by, in the user's own words."""
    if order == ORDER_COLUMN:
        return str(order_by)
    return order or "nothing (a random split)"


def environment(*packages: str) -> Environment:
    """The pages' Jinja environment: templates of ``packages`` first, then the report's own
    (the shared style), and the number filters."""
    loader = ChoiceLoader([PackageLoader(p) for p in (*packages, "leadscore.report")])
    env = Environment(loader=loader, autoescape=select_autoescape())
    env.filters.update(percent=percent, decimal=decimal, bound=bound)
    return env


def metric_span(metrics: dict):
    """``metric(path, decimals, scale)`` in the template: the figure as shown, tagged with the
    exact value and its path in metrics.json (or monitoring.json), so a test can hold the page to
    the figures. A figure that does not exist (null in the JSON) shows as a dash."""

    def show(path: str, decimals: int = 3, scale: float = 1.0) -> Markup:
        value = lookup(metrics, path)
        return Markup(
            '<span class="metric" data-metric="{}" data-value="{!r}" data-scale="{}">{}</span>'
        ).format(path, value, scale, decimal(value, decimals, scale))

    return show


def decimal(value: float | None, decimals: int = 3, scale: float = 1.0) -> str:
    """A number with ``decimals`` places; a dash where there is none (NaN: an empty band's
    precision, a grade without leads)."""
    if value is None or math.isnan(value):
        return EMPTY
    return f"{value * scale:.{decimals}f}"


def percent(value: float | None, decimals: int = 1) -> str:
    """A share as a percentage, or a dash."""
    shown = decimal(value, decimals, 100)
    return shown if shown == EMPTY else f"{shown} %"


def bound(value: object) -> str:
    """A window's first or last lead: a capture date, an ordering column's value (a lead
    number as written, without a thousands separator), or a dash."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return EMPTY
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
