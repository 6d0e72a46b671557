"""Moving timestamps between UTC and a lead's own clock, one time zone at a time (vectorised).

Weekday and hour only mean something in the lead's local time; the generator uses these helpers
to place leads on their local clock and the timing features to read it back.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

# Moments up to which local_clock asks zoneinfo per moment: a pandas time-zone conversion costs
# tens of microseconds a call, too much for an online request, and the same per zone for a table.
FEW_MOMENTS = 64


def local_clock(utc: np.ndarray, tz: np.ndarray | None) -> np.ndarray:
    """Naive local wall-clock times of naive UTC ``datetime64`` moments; rows without a time
    zone stay in UTC. One conversion per distinct zone, so a table costs a few dozen calls; a
    few moments are converted one by one."""
    local = utc.copy()
    if tz is None:
        return local
    zones = np.where(pd.isna(tz), "UTC", tz)
    if len(utc) <= FEW_MOMENTS:
        for i in np.flatnonzero((zones != "UTC") & ~np.isnat(utc)):
            local[i] += _utc_offset(utc[i], zones[i])
        return local
    for zone in pd.unique(zones):
        if zone == "UTC":
            continue
        hit = zones == zone
        moments = pd.DatetimeIndex(utc[hit]).tz_localize("UTC").tz_convert(zone)
        local[hit] = moments.tz_localize(None).to_numpy()
    return local


def _utc_offset(moment: np.datetime64, zone: str) -> np.timedelta64:
    """The zone's offset from UTC at a UTC moment, through ``zoneinfo`` (what pandas asks too)."""
    when = moment.astype("datetime64[us]").item().replace(tzinfo=UTC)
    offset = when.astimezone(ZoneInfo(zone)).utcoffset()
    return np.timedelta64(offset // timedelta(microseconds=1), "us")


def to_local(utc: pd.Series, tz: pd.Series) -> pd.Series:
    """:func:`local_clock` of a time-zone-aware column, as a Series."""
    moments = pd.to_datetime(utc, utc=True).dt.tz_localize(None)
    return pd.Series(local_clock(moments.to_numpy(), tz.to_numpy()), index=utc.index)


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
