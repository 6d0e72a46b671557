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
            shares = _numeric_counts(values, edges) / len(values)
            out[column] = {"edges": edges.tolist(), "shares": shares.tolist()}
        else:
            text = values.astype("object").fillna(MISSING).astype(str)
            shares = text.value_counts(normalize=True)
            out[column] = {"levels": shares.index.tolist(), "shares": shares.tolist()}
    return out


def stability(reference: dict[str, dict], frame: pd.DataFrame) -> dict[str, float]:
    """PSI per profiled column present in ``frame`` (empty frames give no figures)."""
    return psi(reference, bin_counts(reference, frame)) if len(frame) else {}


def bin_counts(reference: dict[str, dict], frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Rows per reference bin of each profiled column in ``frame``.

    Counts, unlike shares, add up over the chunks of a nightly run, so the PSI of a table read in
    chunks is exactly that of the whole table. Numeric columns end with a missing-value bin,
    categorical ones with a bin for levels unseen in training.
    """
    counts = {}
    for column, ref in reference.items():
        if column not in frame:
            continue
        if "edges" in ref:
            counts[column] = _numeric_counts(frame[column], np.asarray(ref["edges"]))
        else:
            text = frame[column].astype("object").fillna(MISSING).astype(str)
            seen = text.value_counts()
            known = np.array([seen.get(level, 0) for level in ref["levels"]], dtype="int64")
            counts[column] = np.append(known, len(text) - known.sum())
    return counts


def psi(reference: dict[str, dict], counts: dict[str, np.ndarray]) -> dict[str, float]:
    """PSI of each column from its bin counts (see :func:`bin_counts`)."""
    out = {}
    for column, count in counts.items():
        expected = np.asarray(reference[column]["shares"], dtype="float64")
        if "levels" in reference[column]:
            expected = np.append(expected, 0.0)  # no training row had an unseen level
        out[column] = index(expected, count / max(count.sum(), 1))
    return out


def index(expected: np.ndarray, actual: np.ndarray) -> float:
    e, a = np.maximum(expected, FLOOR), np.maximum(actual, FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_counts(values: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Rows per bin, the last bin holding missing values."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    known = ~np.isnan(numbers)
    counts = np.bincount(
        np.searchsorted(edges, numbers[known], side="right"), minlength=len(edges) + 1
    )
    return np.append(counts, (~known).sum())
