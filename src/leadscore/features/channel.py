"""Channel features: the source a lead came from and the section of the site it landed on."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import numpy as np

from leadscore.features.cleaning import Columns, clean_text, column, per_distinct


def channel_features(leads: Columns, placeholders: Iterable[str]) -> dict[str, np.ndarray]:
    """One row per lead: lower-cased source and the landing page's first path segment."""
    out = {}
    if "source" in leads:
        out["source"] = per_distinct(clean_text(column(leads, "source"), placeholders), str.lower)
    if "landing_page" in leads:
        page = clean_text(column(leads, "landing_page"), placeholders)
        out["landing_section"] = per_distinct(page, landing_section)
    return out


def landing_section(url: str) -> str | None:
    """ "https://site/blog/post" -> "blog"; the site's root is "home"; not a URL -> missing."""
    try:
        path = urlsplit(url if "//" in url else "//x/" + url.lstrip("/")).path
    except ValueError:
        return None
    first = path.strip("/").split("/")[0].lower()
    return first or "home"
