"""Weekday and time-of-day features, read on the lead's own clock, plus the lead's age at T.

A form sent at 10:00 on a Tuesday in the lead's office says something different from one sent at
02:00 on a Sunday; in UTC both could look alike.
"""

from __future__ import annotations

import numpy as np

from leadscore.data.timezones import local_clock
from leadscore.features.cleaning import as_array, utc_moments, where_given

OFFICE_HOURS: tuple[int, int] = (9, 18)  # local [start, end) on weekdays
_THURSDAY = 3  # 1970-01-01, day 0 of datetime64, was a Thursday (Monday = 0)


def timing_features(
    created_at: object, timezone: object | None, as_of: object, *, time_of_day: bool = True
) -> dict[str, np.ndarray]:
    """Local weekday (0 = Monday), hour, office-hours and weekend flags, and age in days at T.

    ``created_at`` and ``as_of`` are moments (naive UTC ``datetime64`` arrays are taken as
    they are), ``timezone`` IANA names. Without a ``time_of_day`` (a table of dates alone) there
    is no hour and no office-hours flag (absent, not a constant 0), and the weekday is the date's
    own: moving a bare date to the lead's clock would shift it to the day before.
    """
    created_at, as_of = utc_moments(created_at), utc_moments(as_of)
    zones = None if timezone is None or not time_of_day else as_array(timezone)
    local = local_clock(created_at, zones)
    known = ~np.isnat(local)
    day = local.astype("datetime64[D]")
    weekday = where_given(((day.view("int64") + _THURSDAY) % 7).astype("float64"), known)
    out = {"weekday": weekday}
    if time_of_day:  # the features' order is the model's: keep it
        hour = where_given((local - day).astype("timedelta64[h]").view("int64") + 0.0, known)
        office = (weekday < 5) & (hour >= OFFICE_HOURS[0]) & (hour < OFFICE_HOURS[1])
        out |= {"hour": hour, "is_business_hours": where_given(office.astype("float64"), known)}
    out["is_weekend"] = where_given((weekday >= 5).astype("float64"), known)
    out["lead_age_days"] = (as_of - created_at) / np.timedelta64(1, "D")
    return out
