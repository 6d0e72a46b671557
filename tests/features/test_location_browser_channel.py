"""Location, browser and channel features: normalised values and inferred time zones."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.features.browser import browser_features, parse_agent
from leadscore.features.channel import landing_section
from leadscore.features.location import location_features
from leadscore.generate.geography import cities
from leadscore.generate.useragents import user_agents


def test_countries_are_normalised_to_iso_codes():
    leads = pd.DataFrame({"country": ["Germany", "deu", "US", "Atlantis", "Select"]})
    out = pd.DataFrame(location_features(leads, ("Select",)))
    assert out["country"].tolist()[:3] == ["DE", "DE", "US"]
    assert out["country"].iloc[3:].isna().all()
    assert out["world_region"].tolist()[:3] == ["Europe", "Europe", "North America"]


def test_time_zone_follows_the_region_where_a_country_has_several():
    leads = pd.DataFrame({"country": ["US", "US", "US", "AU", "IN"], "region": ["CA", "NY", None,
                          "VIC", "Karnataka"]})  # fmt: skip
    out = pd.DataFrame(location_features(leads, ()))
    assert out["timezone"].tolist() == [
        "America/Los_Angeles", "America/New_York", "America/New_York", "Australia/Melbourne",
        "Asia/Kolkata",
    ]  # fmt: skip


def test_inferred_time_zone_agrees_with_the_generator_for_every_demo_city():
    table = cities()
    out = pd.DataFrame(location_features(table[["country", "region", "city"]], ()))
    noon = [pd.Timestamp("2026-01-15 12:00", tz=z).utcoffset() for z in out["timezone"]]
    want = [pd.Timestamp("2026-01-15 12:00", tz=z).utcoffset() for z in table["timezone"]]
    same = pd.Series(noon) == pd.Series(want)
    assert same.all(), table[~same.to_numpy()]


def test_device_type_matches_what_each_demo_agent_is():
    agents = user_agents()
    out = pd.DataFrame(browser_features(agents["user_agent"]))
    assert out["device_type"].tolist() == agents["kind"].tolist()
    assert (out["is_bot"] == (agents["kind"] == "bot")).all()


def test_each_distinct_agent_is_parsed_once():
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:999.0) Gecko/20100101 Firefox/999.0"
    parse_agent.cache_clear()
    out = pd.DataFrame(browser_features(pd.Series([agent] * 1000 + [None])))
    assert parse_agent.cache_info().misses == 1
    assert out["browser_family"].iloc[0] == "Firefox"
    assert out.iloc[-1].isna().all()


def _uncached(agent: str) -> tuple[str, str, str, float]:
    return parse_agent.__wrapped__(agent)


def test_the_agent_cache_returns_the_parsers_answer_for_every_demo_agent():
    parse_agent.cache_clear()
    for agent in user_agents()["user_agent"]:
        first, again = parse_agent(agent), parse_agent(agent)  # a miss, then a hit
        assert first == again == _uncached(agent)
    assert parse_agent.cache_info().hits > 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=80), st.sampled_from(["Mozilla/5.0 (iPad)", "curl/8"])),
                min_size=1, max_size=5))  # fmt: skip
def test_the_agent_cache_returns_the_parsers_answer_for_any_text(agents):
    out = pd.DataFrame(
        browser_features(pd.Series(agents * 2))
    )  # every agent twice: once parsed, once cached
    for i, agent in enumerate(agents * 2):
        browser, os_family, device, bot = _uncached(agent)
        assert out.iloc[i].tolist() == [browser, os_family, device, bot]


def test_landing_section_is_the_first_path_segment():
    assert landing_section("https://www.x.com/blog/post-1?utm=a") == "blog"
    assert landing_section("https://www.x.com/") == "home"
    assert landing_section("/Pricing") == "pricing"
