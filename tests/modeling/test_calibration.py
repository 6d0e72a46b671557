import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from leadscore.config import CalibrateConfig
from leadscore.errors import InputError
from leadscore.modeling.calibration import (
    MODEL_ONLY,
    Blend,
    Calibrator,
    calibrate_window,
    cross_validated_losses,
    learn_blend,
    learn_calibrator,
    validation_probabilities,
)
from leadscore.modeling.metrics import expected_calibration_error


@pytest.fixture
def miscalibrated():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.01, 0.6, 20_000)
    y = (rng.uniform(size=truth.size) < truth).astype(int)
    z = 2.5 * np.log(truth / (1 - truth)) + 1.0  # over-confident, shifted logit
    return z, y, truth


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_repairs_a_distorted_score(miscalibrated, method):
    z, y, _ = miscalibrated
    fit, held = slice(0, 10_000), slice(10_000, None)
    raw = 1 / (1 + np.exp(-z[held]))
    calibrator = learn_calibrator(z[fit], y[fit], method=method)
    assert expected_calibration_error(y[held], raw) > 0.05
    assert expected_calibration_error(y[held], calibrator.predict(z[held])) < 0.02


def test_calibrator_round_trips_through_plain_dict(miscalibrated):
    z, y, _ = miscalibrated
    for method in ("sigmoid", "isotonic"):
        calibrator = learn_calibrator(z, y, method=method)
        again = Calibrator(**calibrator.to_dict())
        np.testing.assert_array_equal(again.predict(z), calibrator.predict(z))


def test_cross_validated_losses_prefers_sigmoid_when_truth_is_logistic(miscalibrated):
    z, y, _ = miscalibrated
    losses = cross_validated_losses(z, y)
    assert set(losses) == {"sigmoid", "isotonic"}
    assert losses["sigmoid"] <= losses["isotonic"] + 1e-3


def test_learned_blend_uses_both_inputs():
    rng = np.random.default_rng(1)
    model_logit, fit = rng.normal(size=5000), rng.uniform(0, 100, 5000)
    p_true = 1 / (1 + np.exp(-(model_logit + 0.04 * (fit - 50))))
    y = (rng.uniform(size=5000) < p_true).astype(int)
    blend = learn_blend(1 / (1 + np.exp(-model_logit)), fit, y, weight=None)
    assert blend.model_weight == pytest.approx(1.0, abs=0.2)
    assert blend.fit_weight > 0.3


def test_fixed_weight_blend():
    blend = learn_blend(np.array([0.5]), np.array([50.0]), np.array([1]), weight=0.25)
    assert blend == Blend(model_weight=0.75, fit_weight=0.25, intercept=0.0)
    np.testing.assert_allclose(blend.logit(np.array([0.5]), np.array([50.0])), [0.0], atol=1e-12)


@pytest.mark.parametrize(("method", "tolerance"), [("sigmoid", 0.0), ("isotonic", 0.002)])
def test_calibration_never_makes_ranking_worse(miscalibrated, method, tolerance):
    from sklearn.metrics import roc_auc_score

    z, y, _ = miscalibrated
    fit, held = slice(0, 10_000), slice(10_000, None)
    calibrated = learn_calibrator(z[fit], y[fit], method=method).predict(z[held])
    before = roc_auc_score(y[held], z[held])
    after = roc_auc_score(y[held], calibrated)
    assert after >= before - tolerance
    if method == "sigmoid":
        assert after == pytest.approx(before, abs=1e-12)  # a monotone map keeps every pair


def test_identity_calibrator_is_the_blend_logit_squashed(miscalibrated):
    z, y, _ = miscalibrated
    np.testing.assert_array_equal(learn_calibrator(z, y, method="none").predict(z), expit(z))


def test_calibrate_takes_train_s_validation_probabilities_by_lead_and_moment_or_refuses():
    moment = pd.Timestamp("2026-01-01", tz="UTC")
    valid = pd.DataFrame({"lead_id": ["b", "a", "c"], "as_of": [moment] * 3})
    told = pd.DataFrame({"lead_id": ["a", "b", "c"], "as_of": [moment] * 3,
                         "model_probability": [0.1, 0.2, 0.3]})  # fmt: skip
    assert validation_probabilities(valid, told).tolist() == [0.2, 0.1, 0.3]
    with pytest.raises(InputError, match="rerun `leadscore train`"):
        validation_probabilities(valid, told.iloc[:2])
    with pytest.raises(InputError):
        validation_probabilities(valid, told.assign(lead_id=["a", "b", "x"]))


def _window(fit_signal: float, n: int = 6000) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A validation window in arrival order, 100 snapshots a day (half of them new leads): a
    calibrated model, and a fit score of a trait the model does not see, worth ``fit_signal``
    log-odds per standard deviation."""
    rng = np.random.default_rng(0)
    model_logit = rng.normal(-1.5, 1.0, n)
    trait = rng.normal(size=n)
    y = (rng.random(n) < expit(model_logit + fit_signal * trait)).astype(int)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    valid = pd.DataFrame(
        {
            "arrival": np.arange(n, dtype=float),
            "age_days": np.tile([0.0, 1.0], n // 2),
            "created_at": start + pd.to_timedelta(np.arange(n) // 100, unit="D"),
            "label": y,
        }
    )
    return valid, expit(model_logit), np.clip(50 + 15 * trait, 0, 100)


def test_a_calibrated_model_with_a_useless_fit_score_ships_alone():
    valid, model_p, fit_score = _window(fit_signal=0.0)
    result = calibrate_window(valid, model_p, fit_score, cfg=CalibrateConfig())
    assert result.method == "none" and result.blend == MODEL_ONLY
    assert result.losses["model_only"] < min(result.losses["sigmoid"], result.losses["isotonic"])
    assert set(result.to_dict()) == {"blend", "calibrator", "thresholds", "method_log_loss"}


def test_a_fit_score_with_signal_is_blended_and_the_thresholds_count_new_leads():
    valid, model_p, fit_score = _window(fit_signal=1.0)
    result = calibrate_window(valid, model_p, fit_score, cfg=CalibrateConfig())
    assert result.method in ("sigmoid", "isotonic") and result.blend.fit_weight > 0.5
    # 3,000 new leads (age 0) over the window's 59 days
    assert result.thresholds["leads_per_day"] == pytest.approx(3000 / 59)
    assert result.thresholds["sales_ready_share"] == pytest.approx(40 / (3000 / 59), abs=0.002)
    fixed = calibrate_window(
        valid, model_p, fit_score, cfg=CalibrateConfig(method="sigmoid", blend_weight=0.25)
    )
    assert (fixed.method, fixed.blend.fit_weight) == ("sigmoid", 0.25)
