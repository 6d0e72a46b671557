"""A starting fit-rule file for a new table: the columns that look like fit (the form's
drop-downs and small categories known when the lead arrives), their common values, and points.

With a label in the sample, a value's points follow its conversion rate against the sample's
in the training share only (its earliest 60 % by arrival), so the leads the model is judged on
teach the rules nothing; without one, every value starts at 0. Grade cut-offs split the
sample's fit scores into about 20 % A, 30 % B, 30 % C and 20 % D. A marketer edits the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.cleaning import clean_text
from leadscore.onboarding.profile import PLACEHOLDERS

BASE = 50.0
MAX_POINTS = 15
MIN_LEADS = 30  # a value seen fewer times in the training share gets no points of its own
MAX_RULES = 8
GRADE_SHARES = {"A": 0.8, "B": 0.5, "C": 0.2}  # quantiles of the fit score: A is the top 20 %


def propose_fit_rules(
    leads: pd.DataFrame, columns: dict[str, str], label: pd.Series | None, window: pd.Series
) -> dict:
    """Rules on ``columns`` (feature name -> column), points from ``label`` where ``window``."""
    placeholders = ("", *PLACEHOLDERS)
    found = []
    for name, column in columns.items():
        values = pd.Series(clean_text(leads[column].to_numpy(), placeholders), index=leads.index)
        points = _points(values, label, window)
        spread = max((abs(p) for p in points.values()), default=0.0)
        if points and (spread > 0 or label is None):
            found.append((spread, name, column, values, points))
    found.sort(key=lambda f: -f[0])  # the most telling columns first (stable: table order)
    rules, score = [], pd.Series(BASE, index=leads.index)
    for _, name, column, values, points in found[:MAX_RULES]:
        rules.append({"name": column, "field": name, "points": points})
        score += values.map(points).fillna(0.0).astype("float64")
    cuts = score.quantile(list(GRADE_SHARES.values())).round().tolist()
    grades = dict(zip(GRADE_SHARES, cuts, strict=True))
    if len(set(cuts)) < len(cuts):
        grades = {"A": 70.0, "B": 50.0, "C": 30.0}
    return {"base": BASE, "scale_max": 100.0, "grades": grades, "rules": rules}


def _points(values: pd.Series, label: pd.Series | None, window: pd.Series) -> dict[str, float]:
    common = values.value_counts().index[:12]
    if label is None or not window.any():
        return {str(v): 0.0 for v in common}
    seen = pd.DataFrame({"value": values[window], "y": label[window]})
    rate = seen.groupby("value")["y"].agg(["mean", "size"])
    base = float(seen["y"].mean())
    points = {}
    for value in common:
        if value in rate.index and rate.loc[value, "size"] >= MIN_LEADS and 0 < base < 1:
            lift = (rate.loc[value, "mean"] - base) / max(base, 1 - base)
            points[str(value)] = float(
                np.clip(round(2 * MAX_POINTS * lift), -MAX_POINTS, MAX_POINTS)
            )
        else:
            points[str(value)] = 0.0
    return points
