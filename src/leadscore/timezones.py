"""Moving timestamps between UTC and a lead's own clock, one time zone at a time (vectorised).

Weekday and hour only mean something in the lead's local time; the generator uses these helpers
to place leads on their local clock and the timing features to read it back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def to_local(utc: pd.Series, tz: pd.Series) -> pd.Series:
    """Naive local wall-clock times; rows without a time zone stay in UTC."""
    utc = pd.to_datetime(utc, utc=True)
    zones = tz.fillna("UTC").astype("object").to_numpy()
    local = utc.dt.tz_localize(None)
    for zone in pd.unique(zones):
        if zone == "UTC":
            continue
        hit = zones == zone
        local[hit] = utc[hit].dt.tz_convert(zone).dt.tz_localize(None)
    return local


def from_local(local: pd.Series, tz: pd.Series) -> pd.Series:
    """UTC moments of naive local times (DST gaps move forward, repeated hours take the first)."""
    zones = tz.fillna("UTC").astype("object").to_numpy()
    out = local.dt.tz_localize("UTC")
    for zone in pd.unique(zones):
        hit = zones == zone
        out[hit] = (
            local[hit]
            .dt.tz_localize(
                zone, ambiguous=np.ones(hit.sum(), dtype=bool), nonexistent="shift_forward"
            )
            .dt.tz_convert("UTC")
        )
    return out
