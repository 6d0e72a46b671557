"""Blend the model with the fit score, then calibrate so 0.30 means 30 % of such leads convert.

Both steps are tiny and saved as plain numbers (JSON), not pickles: the blend is a logistic
stacker on the model's logit and the fit score's logit; the calibrator is a sigmoid (two numbers)
or an isotonic step function (two arrays). Both are learned on the validation window, split by
lead time: its earlier half learns the blend, its later half the calibrator, so neither step is
judged on the rows it was learned on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from leadscore.config import CalibrateConfig
from leadscore.errors import InputError
from leadscore.modeling.thresholds import choose_thresholds, daily_volume

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

    def logit(self, model_probability: np.ndarray | None, fit_score: np.ndarray) -> np.ndarray:
        """The blend's log-odds; without a model (weight 0: the cold start) its probabilities,
        missing there, are not read."""
        model: np.ndarray | float = 0.0
        if self.model_weight and model_probability is not None:
            model = self.model_weight * _logit(model_probability)
        return model + self.fit_weight * _fit_logit(fit_score) + self.intercept


MODEL_ONLY = Blend(model_weight=1.0, fit_weight=0.0, intercept=0.0)
FIT_ONLY = Blend(model_weight=0.0, fit_weight=1.0, intercept=0.0)  # the cold start's


def learn_blend(
    model_probability: np.ndarray, fit_score: np.ndarray, y: np.ndarray, *, weight: float | None
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
        """The calibrator as plain numbers (what ``calibration.json`` holds)."""
        return asdict(self)


def learn_calibrator(z: np.ndarray, y: np.ndarray, *, method: str) -> Calibrator:
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


def cross_validated_losses(z: np.ndarray, y: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """Cross-validated log loss of each method on the calibration window (lower is better)."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    losses = {}
    for method in ("sigmoid", "isotonic"):
        scores = []
        for train_idx, eval_idx in folds.split(z, y):
            calibrator = learn_calibrator(z[train_idx], y[train_idx], method=method)
            p = np.clip(calibrator.predict(z[eval_idx]), EPS, 1 - EPS)
            scores.append(log_loss(y[eval_idx], p, labels=[0, 1]))
        losses[method] = float(np.mean(scores))
    return losses


@dataclass(frozen=True)
class Calibration:
    """The post-processing chosen on the validation window, as ``calibration.json`` holds it."""

    blend: Blend
    calibrator: Calibrator
    thresholds: dict
    method: str  # the method chosen ("none" when the model's own probabilities won)
    losses: dict[str, float]  # validation log loss of each candidate

    def to_dict(self) -> dict:
        return {
            "blend": asdict(self.blend),
            "calibrator": self.calibrator.to_dict(),
            "thresholds": self.thresholds,
            "method_log_loss": self.losses,
        }


def calibrate_window(
    valid: pd.DataFrame,
    model_p: np.ndarray | None,
    fit_score: np.ndarray,
    *,
    cfg: CalibrateConfig,
) -> Calibration:
    """Blend, calibrator and band thresholds learned on the validation window ``valid`` (sorted
    by arrival), its out-of-sample model probabilities and its fit scores.

    With ``cfg.method`` auto the candidates compete on the later half by log loss, the model's
    own probabilities among them: post-processing that does not lower the validation log loss
    is not applied (the fit score is still reported, with its grade). Without a model
    (``model_p`` None, the cold start) there is no blend to learn: the fit score alone is
    calibrated, on the whole window.
    """
    y = valid["label"].to_numpy()
    later = (valid["arrival"] >= valid["arrival"].median()).to_numpy()
    losses: dict[str, float] = {}
    if model_p is None:
        blend, later = FIT_ONLY, np.ones(len(y), dtype=bool)
    else:
        blend = learn_blend(model_p[~later], fit_score[~later], y[~later], weight=cfg.blend_weight)
        losses["model_only"] = float(log_loss(y[later], model_p[later], labels=[0, 1]))
    z = blend.logit(model_p, fit_score)
    losses = cross_validated_losses(z[later], y[later]) | losses
    method = min(losses, key=losses.__getitem__) if cfg.method == "auto" else cfg.method
    if method == "model_only":
        blend, method = MODEL_ONLY, "none"
        z = blend.logit(model_p, fit_score)
    calibrator = learn_calibrator(z[later], y[later], method=method)
    first = (valid["age_days"] == valid["age_days"].min()).to_numpy()  # a new lead's moment
    volume = daily_volume(valid["created_at"], int(first.sum()), policy=cfg.thresholds)
    thresholds = choose_thresholds(
        calibrator.predict(z[first]), leads_per_day=volume, policy=cfg.thresholds, label=y[first]
    )
    return Calibration(blend, calibrator, thresholds, method, losses)


def validation_probabilities(valid: pd.DataFrame, predictions: pd.DataFrame) -> np.ndarray:
    """The train stage's out-of-sample probabilities, in the order of ``valid``."""
    keys = ["lead_id", "as_of"]
    matched = valid[keys].merge(predictions, on=keys, how="left", validate="one_to_one")
    if len(predictions) != len(valid) or matched["model_probability"].isna().any():
        raise InputError(
            "the validation predictions do not match the features' validation window: "
            "rerun `leadscore train` on these features"
        )
    return matched["model_probability"].to_numpy()
