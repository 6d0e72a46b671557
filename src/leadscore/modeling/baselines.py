"""Honest baselines, fitted on the same training window as the model and judged on the same
held-out leads: if LightGBM cannot beat a logistic regression on the same features, say so."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MISSING = "__missing__"


def train_logistic_baseline(
    frame: pd.DataFrame, columns: list[str], label: np.ndarray, *, min_count: int, seed: int
) -> Pipeline:
    """One-hot text (rare levels pooled), imputed and scaled numbers, an L2 logistic regression."""
    text = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numbers = [c for c in columns if c not in text]
    prepare = ColumnTransformer(
        [
            (
                "text",
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_count),
                text,
            ),
            (
                "numbers",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                numbers,
            ),
        ]
    )
    model = make_pipeline(prepare, LogisticRegression(max_iter=2000, random_state=seed))
    return model.fit(as_model_input(frame, text), label)


def as_model_input(frame: pd.DataFrame, text: list[str] | None = None) -> pd.DataFrame:
    """Text columns as plain objects with missing spelled out, which every encoder accepts."""
    text = text or [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return frame.assign(**{c: frame[c].astype("object").fillna(MISSING) for c in text})
