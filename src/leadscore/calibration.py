"""Blend the model with the fit score, then calibrate so 0.30 means 30 % of such leads convert.

Both steps are tiny and saved as plain numbers (JSON), not pickles: the blend is a logistic
stacker on the model's logit and the fit score's logit; the calibrator is a sigmoid (two numbers)
or an isotonic step function (two arrays).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS))


def _fit_logit(fit_score: np.ndarray) -> np.ndarray:
    """The fit score on the logit scale, kept off the extremes so 0 and 100 stay finite."""
    return _logit(np.clip(np.asarray(fit_score, dtype=float) / 100.0, 0.01, 0.99))


@dataclass(frozen=True)
class Blend:
    """z = model_weight · logit(model) + fit_weight · logit(fit/100) + intercept."""

    model_weight: float
    fit_weight: float
    intercept: float

    def logit(self, model_probability: np.ndarray, fit_score: np.ndarray) -> np.ndarray:
        return (
            self.model_weight * _logit(model_probability)
            + self.fit_weight * _fit_logit(fit_score)
            + self.intercept
        )


MODEL_ONLY = Blend(model_weight=1.0, fit_weight=0.0, intercept=0.0)


def fit_blend(
    model_probability: np.ndarray, fit_score: np.ndarray, y: np.ndarray, weight: float | None
) -> Blend:
    """Learn the weights by logistic regression, or fix the fit score's share to ``weight``."""
    if weight is not None:
        return Blend(model_weight=1.0 - weight, fit_weight=weight, intercept=0.0)
    inputs = np.column_stack([_logit(model_probability), _fit_logit(fit_score)])
    stacker = LogisticRegression(C=1e4, max_iter=1000).fit(inputs, y)
    return Blend(
        float(stacker.coef_[0, 0]), float(stacker.coef_[0, 1]), float(stacker.intercept_[0])
    )


@dataclass(frozen=True)
class Calibrator:
    method: str
    slope: float = 1.0
    offset: float = 0.0
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)

    def predict(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if self.method == "none":
            return expit(z)
        if self.method == "sigmoid":
            return expit(self.slope * z + self.offset)
        return np.interp(z, self.x, self.y)

    def to_dict(self) -> dict:
        return asdict(self)


def fit_calibrator(z: np.ndarray, y: np.ndarray, method: str) -> Calibrator:
    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)
    if method == "none":
        return Calibrator("none")
    if method == "sigmoid":
        model = LogisticRegression(C=1e4, max_iter=1000).fit(z[:, None], y)
        return Calibrator(
            "sigmoid", slope=float(model.coef_[0, 0]), offset=float(model.intercept_[0])
        )
    iso = IsotonicRegression(out_of_bounds="clip", y_min=EPS, y_max=1 - EPS).fit(z, y)
    return Calibrator("isotonic", x=iso.X_thresholds_.tolist(), y=iso.y_thresholds_.tolist())


def choose_method(z: np.ndarray, y: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Cross-validated log loss of each method on the calibration window (lower is better)."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    losses = {}
    for method in ("sigmoid", "isotonic"):
        scores = []
        for fit_idx, eval_idx in folds.split(z, y):
            calibrator = fit_calibrator(z[fit_idx], y[fit_idx], method)
            p = np.clip(calibrator.predict(z[eval_idx]), EPS, 1 - EPS)
            scores.append(log_loss(y[eval_idx], p, labels=[0, 1]))
        losses[method] = float(np.mean(scores))
    return losses
