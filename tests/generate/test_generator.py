"""The demo generator: deterministic, shaped like the data contract, and honest about its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from leadscore.config import LEAD_ROLES, GenerateConfig
from leadscore.data.schema import EVENT_TYPES
from leadscore.data.timezones import to_local
from leadscore.features.browser import browser_features
from leadscore.generate import conversion_probability, generate_demo
from leadscore.generate.geography import cities


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


def test_conversion_happens_within_the_horizon_after_the_scoring_moment(demo):
    leads = demo.leads.drop_duplicates("lead_id").set_index("lead_id")
    truth = demo.truth.set_index("lead_id")
    done = leads["converted"] == 1
    delay = (leads.loc[done, "converted_at"] - truth.loc[done[done].index, "as_of"]).dt.days
    assert delay.between(0, 30).all()
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


def test_truth_is_the_probability_recomputed_from_observables_at_the_snapshot(demo):
    leads = demo.leads.drop_duplicates("lead_id").reset_index(drop=True)
    truth = demo.truth.set_index("lead_id").loc[leads["lead_id"]].reset_index()
    again = conversion_probability(leads, demo.events, truth["as_of"])
    observed = (truth["as_of"] <= leads["created_at"].max()).to_numpy()  # T before the export
    assert observed.mean() > 0.99
    np.testing.assert_allclose(
        again[observed], truth.loc[observed, "probability"], rtol=0, atol=1e-12
    )


def test_later_events_do_not_change_the_truth(demo):
    leads = demo.leads.drop_duplicates("lead_id").reset_index(drop=True)
    as_of = leads["created_at"] + pd.Timedelta(days=1)
    before = demo.events[
        demo.events["ts"]
        <= demo.events["lead_id"].map(pd.Series(as_of.array, index=leads["lead_id"]))
    ]
    np.testing.assert_array_equal(
        conversion_probability(leads, demo.events, as_of),
        conversion_probability(leads, before, as_of),
    )


def test_funnel_has_a_plausible_base_rate_and_learnable_signal(demo):
    leads = demo.leads.drop_duplicates("lead_id")
    closed = leads["created_at"] <= leads["created_at"].max() - pd.Timedelta(days=31)
    joined = leads[closed].merge(demo.truth, on="lead_id")
    assert 0.06 <= joined["converted"].mean() <= 0.2
    assert joined["probability"].mean() == pytest.approx(joined["converted"].mean(), abs=0.025)
    assert 0.75 <= roc_auc_score(joined["converted"], joined["probability"]) <= 0.92


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
