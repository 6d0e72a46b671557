"""Browser features from the user agent: browser, OS, device type and whether it is a bot.

Parsing uses ``ua-parser`` (the maintained uap-core rules). Each distinct string is parsed once per
call and remembered across calls, because a lead table repeats a few hundred agents a million times.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import ua_parser

from leadscore.features.cleaning import as_array, per_distinct

BROWSER_COLUMNS: tuple[str, ...] = ("browser_family", "os_family", "device_type", "is_bot")
# Automation that the crawler rules do not call a "Spider" (HTTP libraries, headless browsers).
_AUTOMATION = re.compile(r"bot|crawl|spider|python|curl|wget|headless|scrapy|go-http|java/", re.I)
_UNKNOWN = (None, None, None, None)  # no agent recorded
MOBILE_OS: frozenset[str] = frozenset({"iOS", "Android", "Windows Phone", "KaiOS"})


def browser_features(user_agent: object) -> dict[str, np.ndarray]:
    """One row per lead: the four browser columns (missing where no agent was recorded)."""
    parsed = per_distinct(as_array(user_agent), parse_agent)
    rows = [_UNKNOWN if p is None else p for p in parsed]
    out = {
        name: np.array([row[k] for row in rows], dtype=object)
        for k, name in enumerate(BROWSER_COLUMNS)
    }
    out["is_bot"] = out["is_bot"].astype("float64")
    return out


@lru_cache(maxsize=65_536)
def parse_agent(agent: str) -> tuple[str, str, str, float]:
    """(browser family, OS family, device type, bot flag) of one user-agent string."""
    result = ua_parser.parse(agent)
    browser = result.user_agent.family if result.user_agent else "Other"
    os_family = result.os.family if result.os else "Other"
    device = result.device.family if result.device else "Other"
    bot = device == "Spider" or bool(_AUTOMATION.search(browser)) or bool(_AUTOMATION.search(agent))
    return browser, os_family, _device_type(agent, os_family, device, bot), float(bot)


def _device_type(agent: str, os_family: str, device: str, bot: bool) -> str:
    if bot:
        return "bot"
    if "iPad" in device or "Tablet" in agent or (os_family == "Android" and "Mobile" not in agent):
        return "tablet"
    if os_family in MOBILE_OS or "Mobile" in agent:
        return "mobile"
    return "desktop"
