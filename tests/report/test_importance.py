import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from scipy.special import expit

from leadscore.config import FeaturizeConfig, SchemaConfig
from leadscore.features import CategoryEncoder
from leadscore.modeling.calibration import FIT_ONLY, Blend, Calibrator
from leadscore.modeling.fit_score import FitRules, Range, Rule
from leadscore.report.importance import (
    FIT,
    LEVELS,
    constant_features,
    group_contributions,
    importance_table,
    measure_importance,
    shap_importance,
)
from leadscore.scoring.scorer import Scorer

# Two leads; the arrival moment feeds weekday and time features, pricing views two engagement ones.
CONTRIB = pd.DataFrame(
    {
        "weekday": [0.5, -0.5],
        "hour": [0.25, 0.25],
        "pricing_view_7d": [1.0, -1.0],
        "pricing_view_decayed": [-0.5, 0.5],
        FIT: [0.2, -0.2],
    }
)


def test_signals_sum_contributions_of_one_raw_input_like_the_reasons_do():
    got = group_contributions(CONTRIB, "signal")
    expected = pd.DataFrame(
        {"created_at": [0.75, -0.25], "pricing_view": [0.5, -0.5], FIT: [0.2, -0.2]}
    )
    assert_frame_equal(got, expected)


def test_families_split_the_arrival_moment_into_weekday_and_time():
    got = group_contributions(CONTRIB, "family")
    assert got.to_dict("list") == {
        "weekday": [0.5, -0.5], "time": [0.25, 0.25], "engagement": [0.5, -0.5], FIT: [0.2, -0.2]
    }  # fmt: skip


def test_shap_importance_is_the_mean_absolute_sum_with_shares_per_level():
    got = shap_importance(CONTRIB).set_index(["level", "name"])
    assert got.loc[("signal", "created_at"), "mean_abs_contribution"] == 0.5
    assert got.loc[("signal", "pricing_view"), "mean_abs_contribution"] == 0.5
    assert got.loc[("feature", "pricing_view_7d"), "mean_abs_contribution"] == 1.0
    for level in ("family", "signal", "feature"):
        assert got.loc[level, "share"].sum() == pytest.approx(1.0)
    assert got.loc[("signal", FIT), "share"] == pytest.approx(0.2 / 1.2)


def test_importance_table_describes_rows_in_plain_words_most_important_first():
    shap = shap_importance(CONTRIB)
    permutation = pd.DataFrame(
        {"level": ["signal"], "name": ["pricing_view"], "permutation_auc_drop": [0.03],
         "permutation_auc_drop_std": [0.01]}
    )  # fmt: skip
    table = importance_table(shap, permutation)
    assert table["level"].drop_duplicates().tolist() == ["family", "signal", "feature"]
    signals = table[table["level"] == "signal"].set_index("name")
    assert signals.loc["pricing_view", "description"].startswith("Pricing-page views in the last")
    assert signals.loc["created_at", "family"] == "weekday, time"
    assert signals.loc["pricing_view", "permutation_auc_drop"] == 0.03
    assert pd.isna(signals.loc["created_at", "permutation_auc_drop"])
    features = table[table["level"] == "feature"]
    assert features["mean_abs_contribution"].is_monotonic_decreasing
    assert features.iloc[0]["name"] == "pricing_view_7d"


def _held_out(n: int = 1200, seed: int = 1) -> pd.DataFrame:
    """Featurized snapshots whose outcome follows pricing views, the form and the weekday;
    every lead arrived at midnight (a date-only timestamp), so the hour is always 0."""
    rng = np.random.default_rng(seed)
    views = rng.poisson(1.5, n).astype(float)
    weekday = rng.integers(0, 7, n).astype(float)
    form = rng.uniform(0, 1, n)
    y = (rng.random(n) < expit(-3 + 0.8 * views - 0.3 * (weekday >= 5) + 2 * form)).astype(int)
    return pd.DataFrame(
        {
            "weekday": weekday,
            "hour": 0.0,
            "pricing_view_7d": views,
            "form_completeness": form,
            "label": y,
            "split": np.where(np.arange(n) < n // 2, "train", "test"),
        }
    )


def _scorer(features: pd.DataFrame, *, model: bool) -> Scorer:
    columns = ["weekday", "hour", "pricing_view_7d", "form_completeness"]
    train = features[features["split"] == "train"]
    encoder = CategoryEncoder().fit(train[columns])
    data = lgb.Dataset(encoder.transform(train[columns]), train["label"])
    params = {"objective": "binary", "verbose": -1, "min_data_in_leaf": 20, "seed": 0}
    rule = Rule(name="complete", field="form_completeness", ranges=(Range(min=0.5, points=30),))
    return Scorer(
        featurize_cfg=FeaturizeConfig(),
        schema=SchemaConfig(),
        encoder=encoder,
        booster=lgb.train(params, data, 30) if model else None,
        fit_rules=FitRules(rules=(rule,)),
        blend=Blend(0.8, 0.2, 0.0) if model else FIT_ONLY,
        calibrator=Calibrator("none"),
        thresholds={"sales_ready": 0.5, "marketing_qualified": 0.2},
        model_version="test",
    )


def test_a_feature_with_one_value_is_left_out_of_the_drivers():
    features = _held_out()
    scorer = _scorer(features, model=True)
    columns = list(scorer.encoder.feature_names_in_)
    assert constant_features(features, columns) == ["hour"]
    test = features[features["split"] == "test"]
    shown, _ = measure_importance(scorer, test, 5, leave_out=["hour"])
    assert "hour" not in set(shown["name"]) and "time" not in set(shown["name"])
    signal = shown[(shown["level"] == "signal") & (shown["name"] == "created_at")].iloc[0]
    assert signal["description"] == "Weekday the lead arrived (local time)"
    assert signal["family"] == "weekday"
    everything, _ = measure_importance(scorer, test, 5)  # what the report showed before
    assert {"hour", "time"} <= set(everything["name"])
    assert "Hour the lead arrived" in " ".join(everything["description"])


def test_without_a_model_the_fit_score_is_the_only_driver():
    features = _held_out()
    scorer = _scorer(features, model=False)
    test = features[features["split"] == "test"]
    shown, contrib = measure_importance(scorer, test, 5)
    pairs = set(zip(shown["level"], shown["name"], strict=True))
    assert pairs == {(level, FIT) for level in LEVELS}
    assert contrib.columns.tolist() == [FIT]
    shuffled = shown.loc[shown["level"] != "feature", "permutation_auc_drop"]
    assert (shuffled > 0.03).all()  # the fit rule carries signal, shuffling it costs ranking
