"""The monitoring page: ``monitoring.json`` for marketers and the analytics team, self-contained
(styles inline, charts embedded as PNG, no script) like the model report, whose template
machinery it shares (:func:`leadscore.report.page.environment`). Every figure is tagged with its
path in ``monitoring.json`` (:func:`leadscore.report.page.metric_span`)."""

from __future__ import annotations

from functools import partial

import pandas as pd

from leadscore.modeling.thresholds import BANDS
from leadscore.monitoring import charts
from leadscore.report.charts import png
from leadscore.report.page import environment, metric_span
from leadscore.report.tables import lookup


def render_monitoring(summary: dict) -> str:
    """The page of a :func:`leadscore.monitoring.summary.monitoring_summary`."""
    windows = pd.DataFrame.from_dict(summary["windows"], orient="index")
    runs = pd.DataFrame.from_dict(summary["runs"], orient="index")
    images = {}
    if len(windows) and windows["judged"].any():
        images["auc"] = png(charts.auc_chart(windows, summary["thresholds"]["min_roc_auc"]))
    if len(windows):
        images["rates"] = png(charts.rate_chart(windows))
    if len(runs) and runs["psi_probability"].notna().any():
        images["drift"] = png(
            charts.drift_chart(
                runs.astype({"psi_probability": "float64", "psi_max_feature": "float64"})
            )
        )
    env = environment("leadscore.monitoring")
    env.globals["metric"] = metric_span(summary)
    env.globals["value"] = partial(lookup, summary)
    return env.get_template("monitoring.html.j2").render(
        s=summary, bands=BANDS, charts=images, latest=summary["latest_window"]
    )
