"""A table's own columns, declared in ``schema``: extra categorical and numeric columns and
pre-aggregated engagement (a CRM export's visit counts, time on site).

They keep the values the CRM writes (trimmed, placeholders such as ``Select`` made missing), so a
marketer's fit rules name them as the CRM spells them. A declared column absent from a table (an
API request, say) gives no feature: the encoder scores it as not given.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from leadscore.config import SchemaConfig
from leadscore.features.cleaning import Columns, clean_text, column


def declared_features(
    leads: Columns, schema: SchemaConfig, placeholders: Iterable[str]
) -> dict[str, np.ndarray]:
    """One row per lead: cleaned text of ``schema.categorical``, floats of ``schema.numeric`` and
    ``schema.engagement_columns``."""
    placeholders = tuple(placeholders)
    out = {}
    for name in schema.categorical:
        if name in leads:
            out[name] = clean_text(column(leads, name), placeholders)
    for name in (*schema.numeric, *schema.engagement_columns):
        if name in leads:
            values = column(leads, name)
            out[name] = (
                values
                if values.dtype == "float64"
                else pd.to_numeric(values, errors="coerce").astype("float64")
            )
    return out
