"""The one feature code path: training snapshots, nightly batch and online requests all call
:func:`build_features`, so a lead gets the same features, and the same score, whichever way it
is scored."""

from __future__ import annotations

import pandas as pd

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.errors import InputError
from leadscore.features.browser import browser_features
from leadscore.features.channel import channel_features
from leadscore.features.declared import declared_features
from leadscore.features.engagement import engagement_features
from leadscore.features.form import form_features
from leadscore.features.location import location_features
from leadscore.features.timing import timing_features


def build_features(
    snapshots: pd.DataFrame,
    leads: pd.DataFrame,
    events: pd.DataFrame | None,
    featurize: FeaturizeConfig,
    schema: SchemaConfig,
) -> pd.DataFrame:
    """Features of each (``lead_id``, ``as_of``) row of ``snapshots``, in the same order.

    ``leads`` and ``events`` are validated canonical tables. Lead-level families are computed
    once per lead and repeated for its snapshots; timing and engagement depend on ``as_of``.
    Without an event log there are no event features (absent, not faked as zeros); without
    ``created_at`` no timing features.
    """
    position = pd.Index(leads["lead_id"]).get_indexer(snapshots["lead_id"])
    if (position < 0).any():
        raise InputError(f"{int((position < 0).sum())} snapshot(s) refer to unknown lead ids")
    placeholders = schema.placeholders
    location = location_features(leads, placeholders)
    per_lead = pd.concat(
        [
            form_features(leads, placeholders, location.get("country"), tuple(schema.form)),
            location,
            browser_features(leads["user_agent"]) if "user_agent" in leads else None,
            channel_features(leads, placeholders),
            declared_features(leads, schema, placeholders),
        ],
        axis=1,
    )
    rows = per_lead.iloc[position].reset_index(drop=True)
    keys = snapshots[["lead_id", "as_of"]].reset_index(drop=True)
    parts = [keys, rows]
    if "created_at" in leads:  # without a capture moment there is no weekday, hour or age
        parts.append(
            timing_features(
                leads["created_at"].iloc[position].reset_index(drop=True),
                location["timezone"].iloc[position].reset_index(drop=True)
                if "timezone" in location
                else None,
                keys["as_of"],
            )
        )
    if events is not None:
        parts.append(
            engagement_features(
                keys, events, featurize.engagement_windows_days, featurize.half_life_days
            )
        )
    return pd.concat(parts, axis=1)
