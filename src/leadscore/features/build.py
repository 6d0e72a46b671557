"""The one feature code path: training snapshots, nightly batch and online requests all call
:func:`feature_columns` (tables through :func:`build_features`), so a lead gets the same
features, and the same score, whichever way it is scored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.errors import InputError
from leadscore.features.browser import browser_features
from leadscore.features.channel import channel_features
from leadscore.features.cleaning import Columns, column, positions, text_frame, utc_moments
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
    """Features of each (``lead_id``, ``as_of``) row of ``snapshots``, in the same order, as a
    table: the keys, then :func:`feature_columns` (text as pandas ``str``)."""
    columns = feature_columns(snapshots, leads, events, featurize, schema)
    keys = snapshots[["lead_id", "as_of"]].reset_index(drop=True)
    return pd.concat([keys, text_frame(columns, keys.index)], axis=1)


def feature_columns(
    snapshots: Columns,
    leads: Columns,
    events: Columns | None,
    featurize: FeaturizeConfig,
    schema: SchemaConfig,
) -> dict[str, np.ndarray]:
    """Features of each (``lead_id``, ``as_of``) row of ``snapshots``, as numpy arrays.

    ``leads`` and ``events`` are validated canonical tables, as DataFrames or as columns of
    numpy arrays (an online request). Lead-level families are computed once per lead and
    repeated for its snapshots; timing and engagement depend on ``as_of``. Without an event
    log there are no event features (absent, not faked as zeros); without ``created_at`` no
    timing features, and without its time of day (``schema.time_of_day``) no hour features.
    """
    # only the columns the schema maps: a role the leakage audit excluded is not read
    readable = {"lead_id", *schema.leads, *schema.declared()}
    leads = {name: leads[name] for name in leads if name in readable}
    position = positions(column(snapshots, "lead_id"), column(leads, "lead_id"))
    if (position < 0).any():
        raise InputError(f"{int((position < 0).sum())} snapshot(s) refer to unknown lead ids")
    placeholders = schema.placeholders
    location = location_features(leads, placeholders)
    per_lead = {
        **form_features(leads, placeholders, location.get("country"), tuple(schema.form)),
        **location,
        **(browser_features(leads["user_agent"]) if "user_agent" in leads else {}),
        **channel_features(leads, placeholders),
        **declared_features(leads, schema, placeholders),
    }
    out = {name: values[position] for name, values in per_lead.items()}
    if "created_at" in leads:  # without a capture moment there is no weekday, hour or age
        zone = location.get("timezone")
        out.update(
            timing_features(
                utc_moments(leads["created_at"])[position],
                None if zone is None else zone[position],
                utc_moments(snapshots["as_of"]),
                time_of_day=schema.time_of_day is not False,
            )
        )
    if events is not None:
        out.update(
            engagement_features(
                snapshots, events, featurize.engagement_windows_days, featurize.half_life_days
            )
        )
    return out
