"""A table's own columns, declared in ``schema``: extra categorical and numeric columns and
pre-aggregated engagement (a CRM export's visit counts, time on site).

They keep the values the CRM writes (trimmed, placeholders such as ``Select`` made missing), so a
marketer's fit rules name them as the CRM spells them. A declared column absent from a table (an
API request, say) gives no feature: the encoder scores it as not given.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from leadscore.config import SchemaConfig
from leadscore.features.cleaning import clean_text


def declared_features(
    leads: pd.DataFrame, schema: SchemaConfig, placeholders: Iterable[str]
) -> pd.DataFrame:
    """One row per lead: cleaned text of ``schema.categorical``, floats of ``schema.numeric`` and
    ``schema.engagement_columns``."""
    placeholders = list(placeholders)
    out = pd.DataFrame(index=leads.index)
    for name in schema.categorical:
        if name in leads:
            out[name] = clean_text(leads[name], placeholders)
    for name in (*schema.numeric, *schema.engagement_columns):
        if name in leads:
            out[name] = pd.to_numeric(leads[name], errors="coerce").astype("float64")
    return out
