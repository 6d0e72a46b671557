"""Category vocabularies learned on the training window and replayed everywhere else.

LightGBM needs categoricals as pandas ``category`` with the *same* categories at training and
scoring time; pandas 3 reads text as ``str``, which LightGBM rejects. The encoder learns each text
column's levels (rare ones grouped as ``__other__``) and saves them as plain JSON in the artifact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

OTHER = "__other__"


class CategoryEncoder(TransformerMixin, BaseEstimator):
    """Text columns -> ``category`` with a fixed vocabulary; everything else -> float64.

    Levels seen fewer than ``min_count`` times in ``fit`` and levels never seen become
    ``other``; missing stays missing (LightGBM has its own branch for it).
    """

    def __init__(self, min_count: int = 30, other: str = OTHER) -> None:
        self.min_count = min_count
        self.other = other

    def fit(self, X: pd.DataFrame, y: object = None) -> CategoryEncoder:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        categories = {}
        for column in X.columns:
            if _is_text(X[column]):
                counts = X[column].astype("object").value_counts()
                kept = sorted(str(v) for v in counts[counts >= self.min_count].index)
                categories[column] = [*kept, self.other]
        self._set_categories(categories)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Columns absent from ``X`` come back missing, so a table without an optional field
        still scores (the model treats it as not filled in).

        Codes come from one hash lookup per column against the saved vocabulary, and float
        columns pass through as they are: an online request is one row, where every pandas
        call per column costs more than the row itself.
        """
        check_is_fitted(self, "categories_")
        columns = {}
        absent = np.full(len(X), np.nan)
        for column in self.feature_names_in_:
            values = X[column] if column in X else None
            dtype = self.dtypes_.get(column)
            if dtype is not None:
                columns[column] = self._categorical(values, dtype, len(X))
            elif values is None:
                columns[column] = absent
            elif values.dtype == "float64":
                columns[column] = values.to_numpy()
            else:
                columns[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        return pd.DataFrame(columns, index=X.index)

    def _categorical(
        self, values: pd.Series | None, dtype: pd.CategoricalDtype, n: int
    ) -> pd.Categorical:
        """Known levels keep their code, unseen ones become ``other``, missing stays missing."""
        if values is None:
            return pd.Categorical.from_codes(np.full(n, -1), dtype=dtype)
        text = values.to_numpy(dtype=object)
        codes = dtype.categories.get_indexer(text)
        unseen = (codes < 0) & ~pd.isna(text)
        codes[unseen] = dtype.categories.get_loc(self.other)
        return pd.Categorical.from_codes(codes, dtype=dtype)

    def _set_categories(self, categories: dict[str, list[str]]) -> None:
        self.categories_ = categories
        self.dtypes_ = {k: pd.CategoricalDtype(v) for k, v in categories.items()}

    def to_dict(self) -> dict:
        check_is_fitted(self, "categories_")
        return {
            "min_count": self.min_count,
            "other": self.other,
            "columns": list(self.feature_names_in_),
            "categories": self.categories_,
        }

    @classmethod
    def from_dict(cls, state: dict) -> CategoryEncoder:
        encoder = cls(min_count=state["min_count"], other=state["other"])
        encoder.feature_names_in_ = np.asarray(state["columns"], dtype=object)
        encoder._set_categories({k: list(v) for k, v in state["categories"].items()})
        return encoder


def _is_text(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
