"""Category vocabularies learned on the training window and replayed everywhere else.

LightGBM needs categoricals as pandas ``category`` with the *same* categories at training and
scoring time; pandas 3 reads text as ``str``, which LightGBM rejects. The encoder learns each text
column's levels (rare ones grouped as ``__other__``) and saves them as plain JSON in the artifact.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from leadscore.features.cleaning import Columns, as_array, missing, n_rows

OTHER = "__other__"
SMALL_INPUT = 1000  # rows up to which a category lookup goes through a dict, not an Index


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
        still scores (the model treats it as not filled in)."""
        columns = {
            column: pd.Categorical.from_codes(values, dtype=self.dtypes_[column])
            if column in self.dtypes_
            else values
            for column, values in self._encoded(X, len(X))
        }
        return pd.DataFrame(columns, index=X.index)

    def matrix(self, X: Columns) -> np.ndarray:
        """The float matrix LightGBM reads from :meth:`transform`'s frame (a category's code,
        missing as NaN), built without that frame, from a DataFrame or numpy columns by name.

        Scoring one lead through the frame cost milliseconds: building a 100-column frame, and
        LightGBM taking it apart again. The model gives the same numbers for either input.
        """
        n = n_rows(X)
        out = np.empty((n, len(self.feature_names_in_)))
        for j, (_, values) in enumerate(self._encoded(X, n)):
            out[:, j] = values
        codes = out[:, self.category_positions_]  # one pass for all categories, not one each
        codes[codes < 0] = np.nan
        out[:, self.category_positions_] = codes
        return out

    def decoded(self, matrix: np.ndarray) -> np.ndarray:
        """What :meth:`matrix` rows hold, as values a person reads (columns in
        ``feature_names_in_`` order): the level of a category (missing as NaN), the number
        otherwise; :meth:`transform`'s frame as plain objects."""
        table = matrix.astype(object)
        for j, column in enumerate(self.feature_names_in_):
            if column in self.dtypes_:
                levels = self.levels_[column]
                codes = matrix[:, j]
                known = ~np.isnan(codes)
                table[known, j] = levels[codes[known].astype(np.intp)]
        return table

    def _encoded(self, X: Columns, n: int) -> Iterator[tuple[str, np.ndarray]]:
        """Each feature with its category codes (-1 missing) or its float values."""
        check_is_fitted(self, "categories_")
        for column in self.feature_names_in_:
            values = X.get(column)
            if column in self.dtypes_:
                yield column, self._codes(values, column, n)
            elif values is None:
                yield column, np.full(n, np.nan)
            else:
                values = as_array(values)
                if values.dtype != np.float64:
                    values = pd.to_numeric(values, errors="coerce").astype("float64")
                yield column, values

    def _codes(self, values: object, column: str, n: int) -> np.ndarray:
        """Known levels keep their code, unseen ones become ``other``, missing stays -1.

        ``Index.get_indexer`` has a fixed cost per call far above a dict lookup per value: a few
        rows (an online request) take the dict, a table takes the index. Both are the same
        exact-match hash lookup.
        """
        if values is None:
            return np.full(n, -1, dtype=np.intp)
        stored = values.array if isinstance(values, pd.Series) else None
        if n > SMALL_INPUT and hasattr(stored, "__arrow_array__"):
            return self._arrow_codes(pa.array(stored), column)
        text = as_array(values).astype(object, copy=False)
        if n <= SMALL_INPUT:
            lookup = self.codes_[column]
            codes = np.array([lookup.get(v, -1) for v in text], dtype=np.intp)
        else:
            codes = self.dtypes_[column].categories.get_indexer(text)
        unseen = (codes < 0) & ~missing(text)
        codes[unseen] = self.codes_[column][self.other]
        return codes

    def _arrow_codes(self, text: pa.Array, column: str) -> np.ndarray:
        """:meth:`_codes` of an Arrow-backed column (pandas 3's ``str``), looked up by Arrow's
        hash kernel on the column as it is: turning it into Python strings first cost more than
        the lookup."""
        levels = pa.array(self.categories_[column], type=text.type)
        found = pc.index_in(text, value_set=levels)
        unseen = pc.and_(pc.is_null(found), pc.is_valid(text))
        codes = pc.if_else(unseen, self.codes_[column][self.other], found)
        return codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)

    def _set_categories(self, categories: dict[str, list[str]]) -> None:
        self.categories_ = categories
        self.category_positions_ = np.flatnonzero([c in categories for c in self.feature_names_in_])
        self.dtypes_ = {k: pd.CategoricalDtype(v) for k, v in categories.items()}
        self.levels_ = {k: np.asarray(v, dtype=object) for k, v in categories.items()}
        self.codes_ = {
            k: {level: code for code, level in enumerate(v)} for k, v in categories.items()
        }

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
