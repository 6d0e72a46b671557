"""What ``monitoring.json`` holds: realized performance per window, the drift history of the runs
table, and the retrain signal, from the three tables ``leadscore monitor`` reads."""

from __future__ import annotations

import json

import pandas as pd

from leadscore.config import Params
from leadscore.modeling.thresholds import BANDS
from leadscore.monitoring.outcomes import label_scores, outcomes_of
from leadscore.monitoring.runs import COUNTS, DECILES, KEY
from leadscore.monitoring.windows import realized_windows, retrain_signal


def drift_history(runs: pd.DataFrame) -> dict[str, dict]:
    """The runs table by night, oldest first: counts, band shares, score deciles and PSI
    (``psi_max_feature``: the largest PSI among the profiled features, the score aside)."""
    history = {}
    for _, row in runs.sort_values(KEY, kind="stable").iterrows():
        psi = json.loads(row["drift_psi"]) if isinstance(row["drift_psi"], str) else {}
        features = [v for k, v in psi.items() if k != "probability" and v is not None]
        history[str(row[KEY])] = {
            "as_of": pd.to_datetime(row["as_of"], utc=True).isoformat(),  # naive: UTC
            "engine": str(row["engine"]),
            "model_version": str(row["model_version"]),
            "alias": "" if pd.isna(row["alias"]) else str(row["alias"]),
            **{name: int(float(row[name])) for name in COUNTS},
            **{f"share_{b}": _number(row[f"share_{b}"]) for b in BANDS},
            **{f"score_p{d}": _number(row[f"score_p{d}"]) for d in DECILES},
            "psi_probability": _number(row["psi_probability"]),
            "psi_max_feature": max(features) if features else None,
            "psi": psi,
        }
    return history


def _number(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def monitoring_summary(
    scores: pd.DataFrame,
    outcomes: pd.DataFrame,
    runs: pd.DataFrame | None,
    *,
    params: Params,
    now: pd.Timestamp,
) -> dict:
    """Everything ``monitoring.json`` holds; ``retrain`` is the signal of the latest judged
    window (see :mod:`leadscore.monitoring.windows`)."""
    horizon = params.featurize.horizon_days
    labelled = label_scores(
        scores,
        outcomes_of(outcomes, params.schema_),
        horizon_days=horizon,
        now=now,
        absent_is_negative=params.schema_.outcomes is not None,
    )
    windows, waiting = realized_windows(
        labelled.scores,
        cfg=params.monitor,
        horizon_days=horizon,
        now=now,
        ece_bins=params.evaluate.ece_bins,
    )
    latest, reasons = retrain_signal(windows)
    return {
        "as_of": now.isoformat(),
        "horizon_days": horizon,
        "window": params.monitor.window,
        "thresholds": params.monitor.model_dump(exclude={"window"}),
        "counts": labelled.counts | {"waiting_for_window": waiting},
        "windows": windows,
        "latest_window": latest,
        "retrain": bool(reasons),
        "reasons": reasons,
        "runs": drift_history(runs) if runs is not None else {},
        "runs_given": runs is not None,
    }
