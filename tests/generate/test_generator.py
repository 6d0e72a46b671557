"""The demo generator: deterministic, shaped like the data contract, and honest about its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from leadscore.config import LEAD_ROLES, DriftConfig, GenerateConfig
from leadscore.data.schema import EVENT_TYPES
from leadscore.data.timezones import to_local
from leadscore.features.browser import browser_features
from leadscore.generate import DemoData, conversion_probability, generate_demo
from leadscore.generate.funnel import given, icp_match
from leadscore.generate.geography import cities
from leadscore.generate.vocabulary import COMPANY_SIZES

EXACT = {"horizon_days": 30.0, "drift_cfg": DriftConfig()}


@pytest.fixture(scope="module")
def large() -> DemoData:
    """Enough leads for the funnel's structure to show above the noise."""
    return generate_demo(GenerateConfig(n_leads=20_000, seed=11))


def test_same_config_gives_identical_tables_and_another_seed_does_not():
    cfg = GenerateConfig(n_leads=800, seed=3)
    first, again = generate_demo(cfg), generate_demo(cfg)
    for name in ("leads", "events", "truth"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    other = generate_demo(cfg.model_copy(update={"seed": 4}))
    assert not other.leads["created_at"].equals(first.leads["created_at"])


def test_leads_follow_the_data_contract(demo):
    leads = demo.leads
    assert list(leads.columns) == list(LEAD_ROLES)
    assert str(leads["created_at"].dtype).endswith("UTC]")
    assert set(leads["converted"].unique()) <= {0, 1}
    unique = leads.drop_duplicates("lead_id")
    assert len(unique) == 3000
    assert 0 < len(leads) - len(unique) <= 10  # a few late re-submissions for validation to catch
    assert unique["country"].isin(cities()["country"]).all()


def test_conversion_happens_after_arrival_and_before_the_export(demo):
    leads = demo.leads.drop_duplicates("lead_id")
    done = leads["converted"] == 1
    assert (leads.loc[done, "converted_at"] > leads.loc[done, "created_at"]).all()
    assert (leads.loc[done, "converted_at"] <= leads["created_at"].max()).all()
    assert leads.loc[~done, "converted_at"].isna().all()


def test_events_belong_to_leads_and_never_precede_them(demo):
    events = demo.events
    created = demo.leads.drop_duplicates("lead_id").set_index("lead_id")["created_at"]
    assert events["lead_id"].isin(created.index).all()
    assert (events["ts"] >= events["lead_id"].map(created)).all()
    types = set(events["event_type"])
    assert types - set(EVENT_TYPES) == {"social_share"}  # one unknown type, counted as "other"
    assert {"pricing_view", "demo_request", "email_open"} <= types
    assert events["ts"].max() <= created.max()  # censored at the export moment


def test_truth_covers_every_snapshot_age_of_every_lead_still_open(demo):
    cfg = GenerateConfig()
    leads = demo.leads.drop_duplicates("lead_id").set_index("lead_id")
    export = leads["created_at"].max()
    for age in cfg.snapshot_ages_days:
        at = demo.truth[demo.truth["age_days"] == age].set_index("lead_id")
        as_of = leads["created_at"] + pd.Timedelta(days=age)
        observed = as_of <= export  # later snapshots may have converted unseen before T
        open_ = observed & ~(leads["converted_at"] <= as_of)
        assert set(at.index[at["as_of"] <= export]) == set(leads.index[open_])
        pd.testing.assert_series_equal(at["as_of"], as_of.loc[at.index], check_names=False)
    assert demo.truth["probability"].between(0, 1).all()


def test_truth_is_the_probability_recomputed_from_observables_at_each_age(demo):
    leads = demo.leads.drop_duplicates("lead_id").set_index("lead_id")
    export = leads["created_at"].max()
    truth = demo.truth[demo.truth["as_of"] <= export]  # T before the export: nothing censored
    assert truth["age_days"].nunique() == 3
    for _, at in truth.groupby("age_days"):
        rows = leads.loc[at["lead_id"]].reset_index()
        again = conversion_probability(
            rows, demo.events, at["as_of"].reset_index(drop=True), **EXACT
        )
        np.testing.assert_allclose(again, at["probability"], rtol=0, atol=1e-12)


def test_later_events_do_not_change_the_truth(demo):
    leads = demo.leads.drop_duplicates("lead_id").reset_index(drop=True)
    as_of = leads["created_at"] + pd.Timedelta(days=1)
    before = demo.events[
        demo.events["ts"]
        <= demo.events["lead_id"].map(pd.Series(as_of.array, index=leads["lead_id"]))
    ]
    np.testing.assert_array_equal(
        conversion_probability(leads, demo.events, as_of, **EXACT),
        conversion_probability(leads, before, as_of, **EXACT),
    )


def test_truth_is_calibrated_against_the_drawn_outcomes_at_every_age(large):
    leads = large.leads.drop_duplicates("lead_id").set_index("lead_id")
    truth = large.truth.join(leads[["converted_at"]], on="lead_id")
    matured = truth["as_of"] + pd.Timedelta(days=30) <= leads["created_at"].max()
    truth = truth[matured]
    label = truth["converted_at"] <= truth["as_of"] + pd.Timedelta(days=30)
    for age, rows in truth.groupby("age_days"):
        y = label[rows.index]
        assert 0.05 <= y.mean() <= 0.2, age
        assert rows["probability"].mean() == pytest.approx(y.mean(), abs=0.01), age
        assert 0.8 <= roc_auc_score(y, rows["probability"]) <= 0.97, age


def test_icp_match_gates_the_effect_of_a_demo_request(large):
    """A demo request lifts an ICP lead's chance several-fold and an out-of-profile lead's by
    little: researchers outside the profile request demos too."""
    seven = _at_age(large, 7.0)
    mean = seven.groupby(["icp", "demo"])["probability"].mean()
    assert mean["match", True] > 2 * mean["match", False]
    assert mean["out", True] < 1.3 * mean["out", False]
    assert mean["match", True] > 4 * mean["out", True]


def test_a_recent_signal_says_more_than_the_same_signal_a_week_ago(large):
    row, as_of = _one_icp_lead(large)
    early = _probability(row, as_of, [0.1, 0.2, 0.3], "pricing_view")
    late = _probability(row, as_of, [6.1, 6.2, 6.3], "pricing_view")
    assert late > 1.5 * early


def test_engagement_saturates_and_a_binge_points_to_a_researcher(large):
    row, as_of = _one_icp_lead(large)
    by_count = {
        n: _probability(row, as_of, list(np.linspace(0.1, 6.9, n)), "page_view")
        for n in (0, 4, 16, 64)
    }
    assert by_count[0] < by_count[4] < by_count[16]
    assert by_count[64] < by_count[16] / 2  # far beyond a buyer's pace: a researcher binging


def test_trade_show_leads_convert_in_conference_season(large):
    leads = large.leads.drop_duplicates("lead_id")
    events = leads[leads["source"] == "event"]
    season = events["created_at"].dt.month.isin([3, 4, 5, 9, 10, 11])
    assert events.loc[season, "converted"].mean() > 1.3 * events.loc[~season, "converted"].mean()


def test_some_buyers_answer_guardedly(large):
    converted = large.leads.drop_duplicates("lead_id").query("converted == 1")
    answered = converted[converted["timeline"].isin(["This quarter", "No plans"])]
    assert (answered["timeline"] == "No plans").mean() > 0.05


def test_leads_arrive_in_local_office_hours_and_on_weekdays(demo):
    zone = demo.leads["city"].map(cities().set_index("city")["timezone"])
    known = zone.notna()
    local = to_local(demo.leads.loc[known, "created_at"], zone[known])
    assert (local.dt.day_of_week >= 5).mean() < 0.15  # 2 of 7 days, a tenth of the leads
    assert local.dt.hour.between(8, 17).mean() > 0.6
    utc_office = demo.leads["created_at"].dt.hour.between(8, 17).mean()
    assert local.dt.hour.between(8, 17).mean() > utc_office + 0.1  # seasonality is local


def test_user_agents_cover_devices_and_a_few_bots(demo):
    device = pd.DataFrame(browser_features(demo.leads["user_agent"]))["device_type"].value_counts(
        normalize=True
    )
    assert {"desktop", "mobile", "tablet", "bot"} <= set(device.index)
    assert 0.005 < device["bot"] < 0.05


def _at_age(data: DemoData, age: float) -> pd.DataFrame:
    """The truth at one age with each lead's ICP match and whether it requested a demo by then."""
    leads = data.leads.drop_duplicates("lead_id").reset_index(drop=True)
    size = leads["company_size"].map({raw: b for b, raws, _ in COMPANY_SIZES for raw in raws})
    leads["icp"] = icp_match(size, given(leads["industry"])).to_numpy()
    at = data.truth[data.truth["age_days"] == age].merge(leads[["lead_id", "icp"]], on="lead_id")
    seen = data.events.merge(at[["lead_id", "as_of"]], on="lead_id")
    seen = seen[(seen["ts"] <= seen["as_of"]) & (seen["event_type"] == "demo_request")]
    return at.assign(demo=at["lead_id"].isin(seen["lead_id"]))


def _one_icp_lead(data: DemoData) -> tuple[pd.DataFrame, pd.Series]:
    at = _at_age(data, 7.0)
    lead_id = at.loc[at["icp"] == "match", "lead_id"].iloc[0]
    leads = data.leads.drop_duplicates("lead_id")
    row = leads[leads["lead_id"] == lead_id].reset_index(drop=True)
    return row, row["created_at"] + pd.Timedelta(days=7)


def _probability(row: pd.DataFrame, as_of: pd.Series, days: list[float], kind: str) -> float:
    """The exact probability at ``as_of`` had the lead done ``kind`` on these days only."""
    offsets = pd.to_timedelta(np.asarray(days, dtype="float64"), unit="D")
    events = pd.DataFrame(
        {
            "lead_id": row["lead_id"].iloc[0],
            "ts": row["created_at"].iloc[0] + offsets,
            "event_type": kind,
            "page": None,
        }
    )
    return float(conversion_probability(row, events, as_of, **EXACT)[0])
