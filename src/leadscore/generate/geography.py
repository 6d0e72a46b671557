"""Where demo leads come from: cities with their region, IANA time zone and share of leads.

The time zone is the generator's ground truth; the feature layer must infer it again from
country and region, as it would for a real lead.
"""

from __future__ import annotations

import pandas as pd

# country (ISO 3166-1 alpha-2), region, city, time zone, relative weight
_CITIES: tuple[tuple[str, str, str, str, float], ...] = (
    ("US", "CA", "San Francisco", "America/Los_Angeles", 6.0),
    ("US", "CA", "Los Angeles", "America/Los_Angeles", 4.0),
    ("US", "WA", "Seattle", "America/Los_Angeles", 3.0),
    ("US", "CO", "Denver", "America/Denver", 2.0),
    ("US", "TX", "Austin", "America/Chicago", 3.0),
    ("US", "IL", "Chicago", "America/Chicago", 4.0),
    ("US", "NY", "New York", "America/New_York", 7.0),
    ("US", "MA", "Boston", "America/New_York", 3.0),
    ("US", "GA", "Atlanta", "America/New_York", 2.0),
    ("CA", "ON", "Toronto", "America/Toronto", 3.0),
    ("CA", "BC", "Vancouver", "America/Vancouver", 2.0),
    ("GB", "England", "London", "Europe/London", 6.0),
    ("GB", "England", "Manchester", "Europe/London", 2.0),
    ("GB", "Scotland", "Edinburgh", "Europe/London", 1.0),
    ("DE", "Berlin", "Berlin", "Europe/Berlin", 3.0),
    ("DE", "Bavaria", "Munich", "Europe/Berlin", 2.5),
    ("FR", "Ile-de-France", "Paris", "Europe/Paris", 3.0),
    ("NL", "North Holland", "Amsterdam", "Europe/Amsterdam", 2.0),
    ("ES", "Madrid", "Madrid", "Europe/Madrid", 1.5),
    ("IT", "Lombardy", "Milan", "Europe/Rome", 1.5),
    ("SE", "Stockholm", "Stockholm", "Europe/Stockholm", 1.0),
    ("IN", "Karnataka", "Bengaluru", "Asia/Kolkata", 4.0),
    ("IN", "Maharashtra", "Mumbai", "Asia/Kolkata", 3.0),
    ("SG", "Singapore", "Singapore", "Asia/Singapore", 1.5),
    ("JP", "Tokyo", "Tokyo", "Asia/Tokyo", 1.5),
    ("AU", "NSW", "Sydney", "Australia/Sydney", 2.0),
    ("AU", "VIC", "Melbourne", "Australia/Melbourne", 1.5),
    ("BR", "SP", "Sao Paulo", "America/Sao_Paulo", 2.0),
    ("MX", "CMX", "Mexico City", "America/Mexico_City", 1.0),
    ("ZA", "Gauteng", "Johannesburg", "Africa/Johannesburg", 1.0),
    ("AE", "Dubai", "Dubai", "Asia/Dubai", 1.0),
)


def cities() -> pd.DataFrame:
    """The city table with a ``share`` column that sums to one."""
    frame = pd.DataFrame(_CITIES, columns=["country", "region", "city", "timezone", "weight"])
    return frame.assign(share=frame["weight"] / frame["weight"].sum()).drop(columns="weight")


def observed_zone(leads: pd.DataFrame) -> pd.Series:
    """The lead's time zone as far as its form tells: by city, else region, else the country's
    most common zone (the local clock a careful analyst would assume)."""
    table = cities()
    by_region = {f"{c}|{r}": z for c, r, z in table[["country", "region", "timezone"]].to_numpy()}
    by_country = (
        table.sort_values("share", ascending=False, kind="stable")
        .drop_duplicates("country")
        .set_index("country")["timezone"]
    )
    zone = leads["city"].map(table.set_index("city")["timezone"]).astype("object")
    zone = zone.fillna((leads["country"] + "|" + leads["region"]).map(by_region).astype("object"))
    return zone.fillna(leads["country"].map(by_country).astype("object"))
