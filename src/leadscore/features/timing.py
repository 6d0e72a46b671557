"""Weekday and time-of-day features, read on the lead's own clock, plus the lead's age at T.

A form sent at 10:00 on a Tuesday in the lead's office says something different from one sent at
02:00 on a Sunday; in UTC both could look alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.timezones import to_local

OFFICE_HOURS: tuple[int, int] = (9, 18)  # local [start, end) on weekdays


def timing_features(
    created_at: pd.Series, timezone: pd.Series | None, as_of: pd.Series
) -> pd.DataFrame:
    """Local weekday (0 = Monday), hour, office-hours and weekend flags, and age in days at T."""
    zone = timezone if timezone is not None else pd.Series(pd.NA, index=created_at.index)
    local = to_local(created_at, zone)
    weekday = local.dt.day_of_week.astype("float64")
    hour = local.dt.hour.astype("float64")
    weekend = (weekday >= 5).astype("float64").where(weekday.notna())
    office = ((weekday < 5) & (hour >= OFFICE_HOURS[0]) & (hour < OFFICE_HOURS[1])).astype(
        "float64"
    )
    age = (pd.to_datetime(as_of, utc=True) - created_at) / pd.Timedelta(days=1)
    return pd.DataFrame(
        {
            "weekday": weekday,
            "hour": hour,
            "is_business_hours": office.where(weekday.notna()),
            "is_weekend": weekend,
            "lead_age_days": np.asarray(age, dtype="float64"),
        },
        index=created_at.index,
    )
