"""Cold start: too few conversions, no model; the fit score alone, calibrated, is the product."""

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from leadscore.config import CalibrateConfig, FeaturizeConfig, SchemaConfig, TrainConfig
from leadscore.features import CategoryEncoder
from leadscore.modeling.calibration import (
    FIT_ONLY,
    Blend,
    Calibrator,
    calibrate_window,
    learn_calibrator,
)
from leadscore.modeling.cold_start import (
    has_model,
    no_model_note,
    read_booster,
    training_conversions,
)
from leadscore.modeling.fit_score import FitRules, Range, Rule
from leadscore.modeling.training import train_conversion_model
from leadscore.scoring.scorer import Scorer

T = pd.Timestamp("2026-01-01", tz="UTC")


def _featurized(n: int = 3000, rate: float = 0.03, seed: int = 0) -> pd.DataFrame:
    """Snapshots of ``n // 2`` leads at two ages in arrival order (the first 60 % train); the
    label follows ``score``, a 0-100 trait a fit rule can read."""
    rng = np.random.default_rng(seed)
    lead = np.repeat(np.arange(n // 2), 2)
    score = rng.uniform(0, 100, n // 2)[lead]
    y = (rng.random(n) < expit(np.log(rate / (1 - rate)) + (score - 50) / 20)).astype(int)
    split = np.select([lead < 0.6 * n / 2, lead < 0.8 * n / 2], ["train", "valid"], "test")
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in lead],
            "as_of": T + pd.to_timedelta(lead, "h") + pd.to_timedelta(np.tile([0, 1], n // 2), "D"),
            "form_completeness": score / 100,
            "colour": np.where(rng.random(n) < 0.5, "red", "blue"),
            "created_at": T + pd.to_timedelta(lead, "h"),
            "arrival": lead.astype(float),
            "age_days": np.tile([0.0, 1.0], n // 2),
            "label": y,
            "split": split,
        }
    )


def test_conversions_are_counted_once_per_lead_and_in_the_training_window_only():
    features = pd.DataFrame(
        {
            "lead_id": ["a", "a", "b", "c", "d", "e"],
            "label": [1, 1, 0, 1, 1, 1],
            "split": ["train", "train", "train", "train", "valid", "test"],
        }
    )
    assert training_conversions(features) == 2


def test_the_note_stands_in_for_the_model_file_and_a_real_model_still_loads(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text(no_model_note(37, 120))
    assert not has_model(note) and read_booster(note) is None
    assert "37 converted leads, fewer than train.min_conversions (120)" in note.read_text()
    x = np.random.default_rng(0).normal(size=(200, 2))
    booster = lgb.train(
        {"objective": "binary", "verbose": -1}, lgb.Dataset(x, (x[:, 0] > 0).astype(int)), 3
    )
    model = tmp_path / "model.txt"
    booster.save_model(str(model))
    assert has_model(model)
    loaded = read_booster(model)
    assert loaded is not None and loaded.num_trees() == booster.num_trees()


def test_fewer_conversions_than_the_minimum_train_no_model():
    features = _featurized()
    conversions = training_conversions(features)
    assert 10 < conversions < 120  # a small table: a few dozen converted leads
    result = train_conversion_model(features, cfg=TrainConfig(), train_rows=1800)
    assert result.booster is None and result.rounds == 0
    assert result.summary["cold_start"] is True
    assert result.summary["train_conversions"] == conversions
    assert result.summary["min_conversions"] == 120
    valid = features[features["split"] == "valid"]
    predictions = result.valid_predictions
    assert predictions[["lead_id", "as_of"]].equals(valid[["lead_id", "as_of"]])
    assert predictions["model_probability"].isna().all()
    assert list(result.encoder.feature_names_in_) == ["form_completeness", "colour"]
    assert result.no_model_note == no_model_note(conversions, 120)


def test_with_enough_conversions_a_model_is_trained():
    features = _featurized()
    cfg = TrainConfig(min_conversions=training_conversions(features), max_rounds=50)
    result = train_conversion_model(features, cfg=cfg, train_rows=1800)
    assert result.booster is not None and result.no_model_note == ""
    assert "cold_start" not in result.summary


def test_without_a_model_the_fit_score_alone_is_calibrated_on_the_whole_window():
    features = _featurized(n=20_000, rate=0.1)
    valid = features[features["split"] == "valid"].reset_index(drop=True)
    fit_score = valid["form_completeness"].to_numpy() * 100
    result = calibrate_window(valid, None, fit_score, cfg=CalibrateConfig())
    assert result.blend == FIT_ONLY
    assert set(result.losses) == {"sigmoid", "isotonic"}  # no model to compete
    p = result.calibrator.predict(result.blend.logit(None, fit_score))
    y = valid["label"].to_numpy()
    assert abs(p.mean() - y.mean()) < 0.01  # calibrated: the window's rate on average
    order = np.argsort(fit_score)
    assert np.all(np.diff(p[order]) >= -1e-12)  # the fit score's ranking is kept
    z = FIT_ONLY.logit(None, fit_score)
    assert result.calibrator == learn_calibrator(z, y, method=result.method)  # every row
    assert result.thresholds["leads_per_day"] == pytest.approx(24, abs=0.05)  # one an hour


def test_a_blend_without_model_weight_does_not_read_the_missing_probabilities():
    fit = np.array([10.0, 50.0, 90.0])
    missing = np.full(3, np.nan)
    z = FIT_ONLY.logit(missing, fit)
    np.testing.assert_allclose(z, np.log([0.1 / 0.9, 1.0, 0.9 / 0.1]))
    blend = Blend(model_weight=0.7, fit_weight=0.3, intercept=-0.2)
    p = np.array([0.2, 0.5, 0.7])
    expected = 0.7 * np.log(p / (1 - p)) + 0.3 * np.log(fit / 100 / (1 - fit / 100)) - 0.2
    np.testing.assert_allclose(blend.logit(p, fit), expected)


def _cold_scorer(features: pd.DataFrame) -> Scorer:
    rules = FitRules(
        base=0,
        rules=(
            Rule(
                name="complete form",
                field="form_completeness",
                ranges=(Range(min=0.5, points=60), Range(max=0.2, points=-10)),
            ),
        ),
    )
    train = features[features["split"] == "train"]
    return Scorer(
        featurize_cfg=FeaturizeConfig(),
        schema=SchemaConfig(),
        encoder=CategoryEncoder().fit(train[["form_completeness", "colour"]]),
        booster=None,
        fit_rules=rules,
        blend=FIT_ONLY,
        calibrator=Calibrator("sigmoid", slope=2.0, offset=-1.0),
        thresholds={"sales_ready": 0.4, "marketing_qualified": 0.1},
        model_version="cold",
    )


def test_a_scorer_without_a_model_scores_by_the_calibrated_fit_score():
    features = _featurized(n=200)
    scorer = _cold_scorer(features)
    scores = scorer.score(features, explain_bands=("sales_ready",))
    fit = np.where(features["form_completeness"] >= 0.5, 60.0, 0.0)
    fit -= np.where(features["form_completeness"] < 0.2, 10.0, 0.0)
    expected = expit(
        2.0 * np.log(np.clip(fit / 100, 0.01, 0.99) / (1 - np.clip(fit / 100, 0.01, 0.99))) - 1.0
    )
    np.testing.assert_allclose(scores["probability"], expected)
    assert np.isnan(scores["model_probability"]).all()
    ready = scores["band"] == "sales_ready"
    assert ready.any() and (~ready).any()
    # the reasons are the fit rules that fired, for the bands asked for
    assert (scores["reasons"][ready] == scores["fit_rules"][ready]).all()
    assert set(scores["reasons"][ready]) == {"complete form+60"}
    assert (scores["reasons"][~ready] == "").all()
    table = scorer.scores_table(features)
    assert table["model_probability"].isna().all() and table["model_version"].eq("cold").all()


@pytest.mark.parametrize("rows", [1, 3])
def test_a_scorer_without_a_model_scores_numpy_columns_as_the_api_sends_them(rows):
    features = _featurized(n=200)
    scorer = _cold_scorer(features)
    head = features.head(rows)
    columns = {c: head[c].to_numpy(dtype=object) for c in ("form_completeness", "colour")}
    columns["form_completeness"] = columns["form_completeness"].astype("float64")
    online = scorer.score(columns)
    batch = scorer.score(head)
    np.testing.assert_array_equal(online["probability"], batch["probability"])
    assert np.isnan(online["model_probability"]).all()
