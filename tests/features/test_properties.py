"""Property-based tests: any text, missing values or extreme numbers, and every family still
answers — no exception, no infinity, and the documented defaults (missing in, missing out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from leadscore.features.browser import browser_features
from leadscore.features.channel import channel_features
from leadscore.features.encoder import CategoryEncoder
from leadscore.features.engagement import engagement_features
from leadscore.features.form import FORM_FIELDS, form_features
from leadscore.features.location import location_features
from leadscore.features.timing import timing_features

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["Select", "  ", "+4915123456789", "a@b.co", "5000+", "99999999999999999999",
                     "-3", "nan", "http://[::1", "Mozilla/5.0 (iPhone)", "US", "Deutschland"]),
)  # fmt: skip
FLAGS = ("has_", "email_is_", "phone_is_valid", "phone_country_match", "is_")


def _text_frame(columns) -> st.SearchStrategy[pd.DataFrame]:
    return data_frames([column(c, elements=TEXT, dtype=object) for c in columns])


def _assert_sane(out: pd.DataFrame, rows: int) -> None:
    assert len(out) == rows
    numbers = out.select_dtypes("number")
    assert not np.isinf(numbers.to_numpy(dtype="float64")).any()
    for name in numbers.columns:
        if name.startswith(FLAGS):
            assert numbers[name].dropna().isin([0.0, 1.0]).all(), name


@SETTINGS
@given(_text_frame((*FORM_FIELDS, "country")))
def test_form_fill_takes_any_text(leads):
    out = pd.DataFrame(form_features(leads, ("Select",), leads["country"]))
    _assert_sane(out, len(leads))
    if len(leads):
        assert out["form_completeness"].between(0, 1).all()
        blank = leads["industry"].isna()
        assert out.loc[blank, "industry"].isna().all()  # missing in, missing out


@SETTINGS
@given(_text_frame(("country", "region", "city")))
def test_location_takes_any_text(leads):
    out = pd.DataFrame(location_features(leads, ("Select",)))
    _assert_sane(out, len(leads))
    assert out["timezone"].dropna().isin(pytz.all_timezones_set).all()


@SETTINGS
@given(_text_frame(("user_agent", "source", "landing_page")))
def test_browser_and_channel_take_any_text(leads):
    browser = pd.DataFrame(browser_features(leads["user_agent"]))
    _assert_sane(browser, len(leads))
    assert browser["device_type"].dropna().isin(["desktop", "mobile", "tablet", "bot"]).all()
    assert browser.loc[leads["user_agent"].isna(), "device_type"].isna().all()
    _assert_sane(pd.DataFrame(channel_features(leads, ("Select",))), len(leads))


MOMENTS = st.datetimes(
    min_value=pd.Timestamp("1971-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
)


@SETTINGS
@given(st.lists(st.tuples(MOMENTS, st.one_of(st.none(), st.sampled_from(sorted(
    pytz.common_timezones)))), min_size=1, max_size=20))  # fmt: skip
def test_timing_takes_any_moment_and_zone(rows):
    created = pd.Series(pd.to_datetime([r[0] for r in rows], utc=True))
    zone = pd.Series([r[1] for r in rows], dtype=object)
    out = pd.DataFrame(timing_features(created, zone, created + pd.Timedelta(days=1)))
    _assert_sane(out, len(rows))
    assert out["hour"].between(0, 23).all() and out["weekday"].between(0, 6).all()
    assert np.allclose(out["lead_age_days"], 1.0)


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(-1e4, 1e4), TEXT), max_size=40),
    st.floats(1e-3, 1e3),
)
def test_engagement_takes_any_events(rows, half_life):
    as_of = pd.Timestamp("2026-01-01", tz="UTC")
    events = pd.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "ts": [as_of - pd.Timedelta(days=r[1]) for r in rows],
            "event_type": [r[2] for r in rows],
        }
    )
    snapshots = pd.DataFrame({"lead_id": ["a", "b", "z"], "as_of": [as_of] * 3})
    out = pd.DataFrame(engagement_features(snapshots, events, (1.0, 7.0, 90.0), half_life))
    _assert_sane(out, 3)
    counts = out.filter(regex=r"_\d+d$").drop(columns="events_trend_7d")
    assert (counts >= 0).all().all() and (out.iloc[2].fillna(0) == 0).all()


@SETTINGS
@given(_text_frame(("x",)), _text_frame(("x",)))
def test_encoder_takes_any_text(train, score):
    encoder = CategoryEncoder(min_count=2).fit(train.astype({"x": "str"}))
    out = encoder.transform(score)
    assert len(out) == len(score)
    if "x" in encoder.categories_:
        assert set(out["x"].dropna()) <= set(encoder.categories_["x"])
