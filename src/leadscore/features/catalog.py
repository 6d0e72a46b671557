"""The feature catalog: each feature's family, the raw input it comes from, and plain words for it.

Reports group importance by family and by raw input, and per-lead reasons are written in these
words, so a marketer reads "Pricing-page views in the last 7 days", not ``pricing_view_7d``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from leadscore.config import SchemaConfig

FAMILIES: tuple[str, ...] = (
    "form fill",
    "location",
    "browser",
    "weekday",
    "time",
    "engagement",
    "channel",
    "CRM fields",
)
# The family of a column the user declared in ``schema``, by the kind it was declared as.
DECLARED_FAMILIES: dict[str, str] = {
    "form": "form fill",
    "categorical": "CRM fields",
    "numeric": "CRM fields",
    "engagement_columns": "engagement",
}


@dataclass(frozen=True)
class FeatureInfo:
    family: str
    source: str  # the raw input: several features of one field are one signal in reasons
    description: str


_FIXED: dict[str, tuple[str, str, str]] = {
    "form_completeness": ("form fill", "form", "Share of the form filled in"),
    "email_is_valid": ("form fill", "email", "E-mail address is valid"),
    "email_is_free": ("form fill", "email", "Free-mail address (not a company domain)"),
    "phone_is_valid": ("form fill", "phone", "Phone number is valid"),
    "phone_country_match": ("form fill", "phone", "Phone number matches the stated country"),
    "job_seniority": ("form fill", "job_title", "Job seniority"),
    "job_function": ("form fill", "job_title", "Job function"),
    "company_size_band": ("form fill", "company_size", "Company size"),
    "industry": ("form fill", "industry", "Industry"),
    "budget": ("form fill", "budget", "Budget answer"),
    "authority": ("form fill", "authority", "Buying authority answer"),
    "need": ("form fill", "need", "Stated need"),
    "timeline": ("form fill", "timeline", "Buying timeline answer"),
    "country": ("location", "country", "Country"),
    "region": ("location", "region", "Region or state"),
    "city": ("location", "city", "City"),
    "timezone": ("location", "country", "Time zone"),
    "world_region": ("location", "country", "Region of the world"),
    "browser_family": ("browser", "user_agent", "Browser"),
    "os_family": ("browser", "user_agent", "Operating system"),
    "device_type": ("browser", "user_agent", "Device (mobile, tablet, desktop)"),
    "is_bot": ("browser", "user_agent", "Automated traffic (bot)"),
    "weekday": ("weekday", "created_at", "Weekday the lead arrived (local time)"),
    "is_weekend": ("weekday", "created_at", "Arrived at the weekend"),
    "hour": ("time", "created_at", "Hour the lead arrived (local time)"),
    "is_business_hours": ("time", "created_at", "Arrived in office hours (local time)"),
    "lead_age_days": ("time", "lead_age", "Days since the lead arrived"),
    "source": ("channel", "source", "Lead source"),
    "landing_section": ("channel", "landing_page", "Landing page section"),
    "days_since_last_event": ("engagement", "events", "Days since the last activity"),
    "events_trend_7d": ("engagement", "events", "Activity trend (last 7 days vs before)"),
}
EVENT_LABELS: dict[str, str] = {
    "email_open": "E-mail opens",
    "email_click": "E-mail clicks",
    "page_view": "Page views",
    "pricing_view": "Pricing-page views",
    "content_download": "Content downloads",
    "webinar_attend": "Webinars attended",
    "demo_request": "Demo requests",
    "chat_message": "Chat messages",
    "form_submit": "Form submissions",
    "unsubscribe": "Unsubscribes",
    "email_bounce": "E-mail bounces",
    "other": "Other activities",
}
_EVENT = "|".join(EVENT_LABELS)
_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, str, str]]], ...] = (
    (
        re.compile(r"has_(\w+)"),
        lambda m: ("form fill", m[1], f"{m[1].replace('_', ' ').capitalize()} given"),
    ),
    (
        re.compile(rf"({_EVENT})_(\d+(?:\.\d+)?)d"),
        lambda m: ("engagement", m[1], f"{EVENT_LABELS[m[1]]} in the last {m[2]} days"),
    ),
    (
        re.compile(rf"({_EVENT})_days_since"),
        lambda m: ("engagement", m[1], f"Days since the last of: {EVENT_LABELS[m[1]].lower()}"),
    ),
    (
        re.compile(rf"({_EVENT})_decayed"),
        lambda m: ("engagement", m[1], f"Recent {EVENT_LABELS[m[1]].lower()} (time-decayed)"),
    ),
    (
        re.compile(r"events_(\d+(?:\.\d+)?)d"),
        lambda m: ("engagement", "events", f"Activities in the last {m[1]} days"),
    ),
    (
        re.compile(r"active_days_(\d+(?:\.\d+)?)d"),
        lambda m: ("engagement", "events", f"Active days in the last {m[1]} days"),
    ),
)


def describe_feature(name: str, schema: SchemaConfig | None = None) -> FeatureInfo:
    """Catalog entry of a feature. A column declared in ``schema`` (a CRM export's own field)
    belongs to the family of its declared kind and is described by the column's own name, as
    the marketer knows it; without the schema such a name describes itself."""
    if schema is not None:
        for kind, family in DECLARED_FAMILIES.items():
            column = getattr(schema, kind).get(name)
            if column is not None:
                return FeatureInfo(family, name, column)
    return _describe(name)


@lru_cache(maxsize=4096)
def _describe(name: str) -> FeatureInfo:
    if name in _FIXED:
        return FeatureInfo(*_FIXED[name])
    for pattern, build in _PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return FeatureInfo(*build(match))
    return FeatureInfo("engagement", name, name.replace("_", " ").capitalize())
