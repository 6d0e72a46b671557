"""When a buyer buys: days from arrival to conversion, longer the bigger the company.

A buyer's delay is gamma distributed with shape :data:`SHAPE` and a mean by the company size it
wrote on the form (:data:`MEAN_DAYS`): a 10-person shop decides in days, an enterprise takes
months, so within a 30-day horizon most small buyers close and most enterprise buyers do not
yet. Every probability here is exact (SciPy's gamma distribution).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import gamma

from leadscore.generate.funnel import NOT_GIVEN
from leadscore.generate.vocabulary import COMPANY_SIZES

SHAPE = 2.0
MEAN_DAYS: dict[str, float] = {
    "1-10": 8.0,
    "11-50": 12.0,
    "51-200": 18.0,
    "201-1000": 30.0,
    "1001-5000": 60.0,
    "5000+": 90.0,
    NOT_GIVEN: 24.0,
}


def draw_delay(u: np.ndarray, leads: pd.DataFrame) -> np.ndarray:
    """Days from arrival to conversion for each lead were it a buyer, from uniforms ``u``."""
    return gamma.ppf(u, SHAPE, scale=_scale(leads))


def log_survival(days: np.ndarray, leads: pd.DataFrame) -> np.ndarray:
    """log P(a buyer has not converted ``days`` after arrival)."""
    return gamma.logsf(days, SHAPE, scale=_scale(leads))


def within_horizon(days: np.ndarray, horizon_days: float, leads: pd.DataFrame) -> np.ndarray:
    """P(a buyer converts within the horizon after ``days`` | not converted by then)."""
    later = log_survival(days + horizon_days, leads) - log_survival(days, leads)
    return -np.expm1(later)


def _scale(leads: pd.DataFrame) -> np.ndarray:
    band = leads["company_size"].map({raw: b for b, raws, _ in COMPANY_SIZES for raw in raws})
    mean = band.astype("object").where(band.notna(), NOT_GIVEN).map(MEAN_DAYS)
    return mean.to_numpy(dtype="float64") / SHAPE
