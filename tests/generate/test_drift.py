"""generate.drift: a change from a given day on, nothing before it, and the truth still exact."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from leadscore.config import DriftConfig, GenerateConfig, load_params
from leadscore.errors import ConfigError
from leadscore.generate import DemoData, conversion_probability, generate_demo

START = dt.date(2026, 4, 1)
BASE = GenerateConfig(n_leads=6000, seed=5)


def _drifted(**drift) -> DemoData:
    return generate_demo(BASE.model_copy(update={"drift": DriftConfig(start=START, **drift)}))


@pytest.fixture(scope="module")
def plain() -> DemoData:
    return generate_demo(BASE)


@pytest.fixture(scope="module")
def shifted() -> DemoData:
    """All three kinds at once: more partner leads, more buyers, a budget band that moved."""
    return _drifted(
        channel_mix={"partner": 4.0},
        base_rate_shift=1.0,
        answer_meaning={"field": "budget", "mapping": {"<10k": "10k-50k"}},
    )


def _split(data: DemoData) -> tuple[pd.DataFrame, pd.DataFrame]:
    leads = data.leads.drop_duplicates("lead_id")
    after = leads["created_at"] >= pd.Timestamp(START, tz="UTC")
    return leads[~after], leads[after]


def test_nothing_changes_before_the_start(plain, shifted):
    before, _ = _split(shifted)
    plain_before, _ = _split(plain)
    columns = [c for c in before.columns if c not in ("converted", "converted_at")]
    pd.testing.assert_frame_equal(before[columns], plain_before[columns])
    early = pd.Timestamp(START, tz="UTC") - pd.Timedelta(days=40)  # outcomes of earlier leads
    old = before["created_at"] < early
    pd.testing.assert_frame_equal(before[old], plain_before[old])


def test_channel_mix_moves_the_named_source_only_from_the_start(plain, shifted):
    _, after = _split(shifted)
    _, plain_after = _split(plain)
    share, plain_share = (
        frame["source"].value_counts(normalize=True) for frame in (after, plain_after)
    )
    assert share["partner"] > 2.5 * plain_share["partner"]
    # the others keep their relative weights: organic over direct is about the same
    ratio = share["organic_search"] / share["direct"]
    assert ratio == pytest.approx(plain_share["organic_search"] / plain_share["direct"], rel=0.2)


def test_base_rate_shift_raises_conversion_and_the_truth_follows(plain, shifted):
    _, after = _split(shifted)
    _, plain_after = _split(plain)
    assert after["converted"].mean() > 1.4 * plain_after["converted"].mean()
    truth, plain_truth = (
        d.truth[d.truth["lead_id"].isin(a["lead_id"]) & (d.truth["age_days"] == 0)]
        for d, a in ((shifted, after), (plain, plain_after))
    )
    assert truth["probability"].mean() > 1.4 * plain_truth["probability"].mean()


def test_answer_meaning_moves_the_recorded_answer(plain, shifted):
    _, after = _split(shifted)
    before, _ = _split(shifted)
    assert (after["budget"] == "<10k").sum() == 0
    assert (before["budget"] == "<10k").mean() > 0.05
    assert (after["budget"] == "10k-50k").mean() > (before["budget"] == "10k-50k").mean() + 0.05


def test_the_truth_under_drift_is_recomputed_from_observables(shifted):
    leads = shifted.leads.drop_duplicates("lead_id").set_index("lead_id")
    at = shifted.truth[shifted.truth["age_days"] == 1.0]
    at = at[at["as_of"] <= leads["created_at"].max()]
    rows = leads.loc[at["lead_id"]].reset_index()
    cfg = DriftConfig(
        start=START,
        channel_mix={"partner": 4.0},
        base_rate_shift=1.0,
        answer_meaning={"field": "budget", "mapping": {"<10k": "10k-50k"}},
    )
    again = conversion_probability(
        rows, shifted.events, at["as_of"].reset_index(drop=True), horizon_days=30, drift_cfg=cfg
    )
    np.testing.assert_allclose(again, at["probability"], rtol=0, atol=1e-12)
    without = conversion_probability(
        rows,
        shifted.events,
        at["as_of"].reset_index(drop=True),
        horizon_days=30,
        drift_cfg=DriftConfig(),
    )
    late = (rows["created_at"] >= pd.Timestamp(START, tz="UTC")).to_numpy()
    np.testing.assert_array_equal(again[~late], without[~late])
    assert (again[late] > without[late]).mean() > 0.9  # the base rate moved up


def test_drift_is_off_by_default_and_set_from_params(tmp_path):
    assert not GenerateConfig().drift.active
    path = tmp_path / "params.yaml"
    path.write_text(
        "generate:\n  drift:\n    start: 2026-04-01\n    base_rate_shift: -0.5\n"
        "    channel_mix: {event: 0.5}\n"
    )
    drift = load_params(path).generate.drift
    assert drift.active and drift.start == START and drift.channel_mix == {"event": 0.5}


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        ({"base_rate_shift": 0.5}, "no start date"),
        ({"start": START}, "no shift"),
        ({"start": START, "channel_mix": {"event": 0.0}}, "above 0"),
    ],
)
def test_an_incomplete_drift_is_refused(drift, message):
    with pytest.raises(ValidationError, match=message):
        DriftConfig(**drift)


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        ({"channel_mix": {"webinar": 2.0}}, "unknown source"),
        ({"answer_meaning": {"field": "need", "mapping": {"High": "Urgent"}}}, "not need answers"),
    ],
)
def test_a_misspelt_drift_names_what_is_known(drift, message):
    cfg = GenerateConfig(n_leads=50, drift=DriftConfig(start=START, **drift))
    with pytest.raises(ConfigError, match=message):
        generate_demo(cfg)
