"""Population stability: has tonight's table drifted away from what the model was trained on?

At export, the training window's distribution of the score and of the most important features is
saved as a profile (bins fixed on the training window, plain JSON). A batch run compares tonight's
rows with it by the population stability index, PSI = sum((a - e) * ln(a / e)) over the bins; by
the usual rule of thumb, under 0.1 is stable, 0.1-0.25 a shift worth a look, above 0.25 a change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 10
FLOOR = 1e-4  # an empty bin counts as this share, so the logarithm stays finite
MISSING = "__missing__"


def profile(frame: pd.DataFrame, columns: list[str]) -> dict[str, dict]:
    """Bins and shares of each column on the reference (training) window."""
    out = {}
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            edges = np.unique(np.nanquantile(values, np.linspace(0, 1, BINS + 1)[1:-1]))
            out[column] = {"edges": edges.tolist(), "shares": _numeric_shares(values, edges)}
        else:
            text = values.astype("object").fillna(MISSING).astype(str)
            shares = text.value_counts(normalize=True)
            out[column] = {"levels": shares.index.tolist(), "shares": shares.tolist()}
    return out


def stability(reference: dict[str, dict], frame: pd.DataFrame) -> dict[str, float]:
    """PSI per profiled column present in ``frame`` (empty frames give no figures)."""
    if frame.empty:
        return {}
    psi = {}
    for column, ref in reference.items():
        if column not in frame:
            continue
        if "edges" in ref:
            now = _numeric_shares(frame[column], np.asarray(ref["edges"]))
        else:
            text = frame[column].astype("object").fillna(MISSING).astype(str)
            counts = text.value_counts(normalize=True)
            now = [float(counts.get(level, 0.0)) for level in ref["levels"]]
            now.append(float(1.0 - sum(now)))  # levels unseen in training
            ref = {"shares": [*ref["shares"], 0.0]}
        psi[column] = index(np.asarray(ref["shares"]), np.asarray(now))
    return psi


def index(expected: np.ndarray, actual: np.ndarray) -> float:
    e, a = np.maximum(expected, FLOOR), np.maximum(actual, FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_shares(values: pd.Series, edges: np.ndarray) -> list[float]:
    """Shares per bin, the last bin holding missing values."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    known = ~np.isnan(numbers)
    counts = np.bincount(np.searchsorted(edges, numbers[known], side="right"),
                         minlength=len(edges) + 1)  # fmt: skip
    return [*(counts / len(numbers)).tolist(), float((~known).mean())]
