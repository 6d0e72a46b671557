"""The report's tables: bands, grades, calibration, windows, example leads and breakdowns.

Every figure of the page comes from the held-out evaluation's outputs (``reports/metrics.json``,
the scores of the test window, the DVC plot tables) or from a table here that is also written as a
CSV companion, so what a marketer reads and what a script reads are the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from leadscore.config import ORDER_COLUMN
from leadscore.features import describe_feature
from leadscore.modeling.fit_score import GRADES
from leadscore.modeling.thresholds import BANDS
from leadscore.report.breakdown import conversion_by_value
from leadscore.report.importance import FIT, group_contributions
from leadscore.scoring.scorer import Scorer

SCORE_GROUPS: tuple[str, ...] = ("lowest 20 %", "20–40 %", "40–60 %", "60–80 %", "top 20 %")
CALIBRATION_COLUMNS: tuple[str, ...] = (
    "curve",
    "bin",
    "bin_lower",
    "mean_predicted",
    "fraction_positive",
    "count",
    "brier",
    "ece",
)


def band_table(scores: pd.DataFrame, thresholds: dict[str, float]) -> pd.DataFrame:
    """Per band: its lower cut-off, share of leads, precision (its conversion rate), recall (its
    share of all conversions), lift and the conversions its probabilities expect."""
    y, rate = scores["label"].astype(float), scores["label"].mean()
    records = []
    for band in BANDS:
        inside = (scores["band"] == band).to_numpy()
        n, hits = int(inside.sum()), float(y[inside].sum())
        records.append(
            {
                "band": band,
                "lower_threshold": float(thresholds.get(band, 0.0)),
                "leads": n,
                "share_of_leads": n / max(len(scores), 1),
                "precision": hits / n if n else np.nan,
                "recall": hits / max(y.sum(), 1),
                "lift": hits / n / rate if n and rate else np.nan,
                "expected_conversions": float(scores["probability"][inside].sum()),
                "actual_conversions": hits,
            }
        )
    return pd.DataFrame(records)


def grade_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Leads, share and conversion rate per fit grade, A to D (empty grades included)."""
    table = (
        scores.groupby("fit_grade")["label"]
        .agg(leads="size", conversions="sum", conversion_rate="mean")
        .reindex(list(GRADES))
        .fillna({"leads": 0, "conversions": 0})
    )
    table["share_of_leads"] = table["leads"] / max(len(scores), 1)
    return table.rename_axis("fit_grade").reset_index()


def grade_score_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Conversion rate and count per fit grade and fifth of the model's own score: does the
    grade still separate leads the model already ranks alike? Every grade and fifth has its
    cell, empty ones with 0 leads (a rate of NaN); no cells without a model (cold start)."""
    if scores["model_probability"].isna().all():
        return pd.DataFrame(columns=["fit_grade", "model_score", "leads", "conversion_rate"])
    rank = scores["model_probability"].rank(method="first")
    group = pd.qcut(rank, len(SCORE_GROUPS), labels=list(SCORE_GROUPS))
    grade = pd.Categorical(scores["fit_grade"], categories=list(GRADES))
    return (
        scores.assign(model_score=group, fit_grade=grade)
        .groupby(["fit_grade", "model_score"], observed=False)["label"]
        .agg(leads="size", conversion_rate="mean")
        .reset_index()
        .astype({"fit_grade": "str", "model_score": "str"})
    )


def example_leads(
    scorer: Scorer, features: pd.DataFrame, scores: pd.DataFrame, per_band: int, seed: int
) -> pd.DataFrame:
    """A few held-out leads of each band as a sales rep sees them: score, band, grade, the fit
    rules that fired and the reasons (computed for every band here, not only the top one).
    ``scores`` holds the scores of ``features``' rows, in the same order, as ``evaluate`` wrote
    them."""
    if not np.array_equal(scores["lead_id"].to_numpy(), features["lead_id"].to_numpy()):
        raise ValueError("the scores and the features must list the same rows in the same order")
    picked = scores.sample(frac=1.0, random_state=seed).groupby("band").head(per_band)
    order = picked["band"].map(BANDS.index).sort_values(kind="stable")
    rows = order.index.to_numpy()
    shown = scorer.scores_table(features.loc[rows].reset_index(drop=True))
    return shown[["score", "band", "fit_grade", "fit_rules", "reasons"]].assign(
        lead_age_days=features.loc[rows, "age_days"].to_numpy(),
        converted=scores.loc[rows, "label"].map({1: "yes", 0: "no"}).to_numpy(),
    )


def calibration_table(before: pd.DataFrame, after: pd.DataFrame, metrics: dict) -> pd.DataFrame:
    """The reliability bins before and after calibration, each with its Brier score and ECE
    as ``metrics.json`` has them."""
    parts = [
        table.assign(
            curve=curve, brier=lookup(metrics, f"{key}brier"), ece=lookup(metrics, f"{key}ece")
        )
        for curve, table, key in (
            ("before", before, "blend_before_calibration."),
            ("after", after, ""),
        )
    ]
    return pd.concat(parts, ignore_index=True)[list(CALIBRATION_COLUMNS)]


def split_windows(features: pd.DataFrame) -> pd.DataFrame:
    """The out-of-time windows: first and last lead by :func:`window_order`, leads, snapshots
    and conversion rate."""
    order = window_order(features)
    key = features[order] if order else pd.Series(np.nan, index=features.index)
    return (
        features.assign(_arrival=key)
        .groupby("split", sort=False)
        .agg(
            first_lead=("_arrival", "min"),
            last_lead=("_arrival", "max"),
            leads=("lead_id", "nunique"),
            snapshots=("label", "size"),
            conversion_rate=("label", "mean"),
        )
        .reindex(["train", "valid", "test"])
        .rename_axis("split")
        .reset_index()
    )


def window_order(features: pd.DataFrame) -> str | None:
    """The column that orders the windows in the user's terms: ``created_at``, else the table's
    ordering column (``schema.order_by``, e.g. a lead number), else none (a random split)."""
    if features["created_at"].notna().any():
        return "created_at"
    return ORDER_COLUMN if ORDER_COLUMN in features else None


def signal_breakdowns(
    importance: pd.DataFrame, features: pd.DataFrame, contrib: pd.DataFrame, top: int
) -> list[tuple[str, pd.DataFrame]]:
    """Conversion and the signal's average contribution by value, for the most important
    feature of each of the ``top`` signals and of every family not among them (so weekday,
    browser or location get a chart even when they matter little; the fit score has its own
    section). ``contrib`` may cover a sample of ``features``' rows (same index); conversion
    rates use every row."""
    grouped = group_contributions(contrib, "signal")
    out = []
    for feature, description in _breakdown_features(importance, top):
        signal = describe_feature(feature).source
        contribution = grouped[signal].reindex(features.index)  # missing outside the sample
        table = conversion_by_value(features[feature], features["label"], contribution, feature)
        out.append((description, table))
    return out


def _breakdown_features(importance: pd.DataFrame, top: int) -> list[tuple[str, str]]:
    ranked = importance[(importance["level"] == "feature") & (importance["name"] != FIT)]
    ranked = ranked.assign(signal=ranked["name"].map(lambda f: describe_feature(f).source))
    strongest = ranked.groupby("signal", sort=False).head(1).set_index("signal")
    signals = importance[(importance["level"] == "signal") & (importance["name"] != FIT)]
    chosen = strongest.loc[signals["name"].head(top)]
    missing = ~ranked["family"].isin(chosen["family"])
    chosen = pd.concat([chosen, ranked[missing].groupby("family", sort=False).head(1)])
    return list(zip(chosen["name"], chosen["description"], strict=True))


def audit_rows(audit: dict) -> list[dict]:
    """The audit's columns for the page: those left out or kept against advice first (they are
    what the reader must know about), then the others, each group by ROC-AUC alone."""
    rows = [
        row | {"status": "kept" if row["kept"] else "excluded" if row["excluded"] else "used"}
        for row in audit["columns"]
    ]
    return sorted(rows, key=lambda r: (r["status"] == "used", -r["roc_auc"]))


def lookup(metrics: dict, path: str) -> Any:
    """A value of ``metrics.json`` by dotted path, e.g. ``model_only.roc_auc``."""
    value = metrics
    for key in path.split("."):
        value = value[key]
    return value
