import numpy as np
import pandas as pd
import pytest

from leadscore.calibration import Blend, Calibrator, choose_method, fit_blend, fit_calibrator
from leadscore.errors import InputError
from leadscore.metrics import expected_calibration_error
from leadscore.stages.calibrate import _model_probability


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
    calibrator = fit_calibrator(z[fit], y[fit], method)
    assert expected_calibration_error(y[held], raw) > 0.05
    assert expected_calibration_error(y[held], calibrator.predict(z[held])) < 0.02


def test_calibrator_round_trips_through_plain_dict(miscalibrated):
    z, y, _ = miscalibrated
    for method in ("sigmoid", "isotonic"):
        calibrator = fit_calibrator(z, y, method)
        again = Calibrator(**calibrator.to_dict())
        np.testing.assert_array_equal(again.predict(z), calibrator.predict(z))


def test_choose_method_prefers_sigmoid_when_truth_is_logistic(miscalibrated):
    z, y, _ = miscalibrated
    losses = choose_method(z, y)
    assert set(losses) == {"sigmoid", "isotonic"}
    assert losses["sigmoid"] <= losses["isotonic"] + 1e-3


def test_learned_blend_uses_both_inputs():
    rng = np.random.default_rng(1)
    model_logit, fit = rng.normal(size=5000), rng.uniform(0, 100, 5000)
    p_true = 1 / (1 + np.exp(-(model_logit + 0.04 * (fit - 50))))
    y = (rng.uniform(size=5000) < p_true).astype(int)
    blend = fit_blend(1 / (1 + np.exp(-model_logit)), fit, y, weight=None)
    assert blend.model_weight == pytest.approx(1.0, abs=0.2)
    assert blend.fit_weight > 0.3


def test_fixed_weight_blend():
    blend = fit_blend(np.array([0.5]), np.array([50.0]), np.array([1]), weight=0.25)
    assert blend == Blend(model_weight=0.75, fit_weight=0.25, intercept=0.0)
    np.testing.assert_allclose(blend.logit(np.array([0.5]), np.array([50.0])), [0.0], atol=1e-12)


@pytest.mark.parametrize(("method", "tolerance"), [("sigmoid", 0.0), ("isotonic", 0.002)])
def test_calibration_never_makes_ranking_worse(miscalibrated, method, tolerance):
    from sklearn.metrics import roc_auc_score

    z, y, _ = miscalibrated
    fit, held = slice(0, 10_000), slice(10_000, None)
    calibrated = fit_calibrator(z[fit], y[fit], method).predict(z[held])
    before = roc_auc_score(y[held], z[held])
    after = roc_auc_score(y[held], calibrated)
    assert after >= before - tolerance
    if method == "sigmoid":
        assert after == pytest.approx(before, abs=1e-12)  # a monotone map keeps every pair


def test_identity_calibrator_is_the_blend_logit_squashed(miscalibrated):
    from scipy.special import expit

    z, y, _ = miscalibrated
    np.testing.assert_array_equal(fit_calibrator(z, y, "none").predict(z), expit(z))


def test_calibrate_takes_train_s_validation_probabilities_by_lead_and_moment_or_refuses():
    moment = pd.Timestamp("2026-01-01", tz="UTC")
    valid = pd.DataFrame({"lead_id": ["b", "a", "c"], "as_of": [moment] * 3})
    told = pd.DataFrame({"lead_id": ["a", "b", "c"], "as_of": [moment] * 3,
                         "model_probability": [0.1, 0.2, 0.3]})  # fmt: skip
    assert _model_probability(valid, told).tolist() == [0.2, 0.1, 0.3]
    with pytest.raises(InputError, match="rerun `leadscore train`"):
        _model_probability(valid, told.iloc[:2])
    with pytest.raises(InputError):
        _model_probability(valid, told.assign(lead_id=["a", "b", "x"]))
