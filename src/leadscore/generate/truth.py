"""The exact probability that a lead converts within the horizon after T, given what is
observable at T: the best any model can do.

What a model can see at T is the lead's row as written (every column but the outcome) and its
events with ``ts <= T``, and that it has not converted by T. By Bayes' rule over the three
stages (:mod:`~leadscore.generate.funnel`):

    log P(stage | seen) = log prior(stage | row) + log P(answers | stage)
                          + log P(events up to T | stage) + log P(not converted by T | stage)
                          - a constant,

each term in closed form (a multinomial logit, differences of logistic functions, a Poisson
process density, a gamma survival function), and then

    P(convert within the horizon) = P(buyer | seen) * P(delay <= age + horizon | delay > age).

The stage itself never enters: this is what the data can tell, not what the generator knows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import softmax

from leadscore.config import DriftConfig
from leadscore.generate import closing
from leadscore.generate.answers import answer_log_likelihood
from leadscore.generate.events import EventTimes, event_log_likelihood, profile_shares
from leadscore.generate.funnel import BUYER, stage_log_prior


def conversion_probability(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    as_of: pd.Series,
    *,
    horizon_days: float,
    drift_cfg: DriftConfig,
) -> np.ndarray:
    """P(convert within ``horizon_days`` after T | what is observable at T), one value per lead.

    ``leads`` is the table as written with unique ``lead_id``; ``as_of`` is aligned with it and
    not before ``created_at``.
    """
    row = row_evidence(leads, drift_cfg=drift_cfg)
    return _probability(row, leads, EventTimes.of(leads, events), as_of, horizon_days)


def row_evidence(leads: pd.DataFrame, *, drift_cfg: DriftConfig) -> np.ndarray:
    """log P(stage | the row) up to a constant, (leads, 3): the prior and the form's answers,
    the same at every age."""
    return stage_log_prior(leads, drift_cfg=drift_cfg) + answer_log_likelihood(
        leads, drift_cfg=drift_cfg
    )


def truth_table(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    *,
    ages_days: tuple[float, ...],
    horizon_days: float,
    drift_cfg: DriftConfig,
) -> pd.DataFrame:
    """``lead_id``, ``as_of``, ``age_days`` and the exact ``probability`` at every snapshot age
    of every lead not yet converted at that moment (``converted_at`` before censoring)."""
    row = row_evidence(leads, drift_cfg=drift_cfg)
    times = EventTimes.of(leads, events)
    parts = []
    for age in ages_days:
        as_of = leads["created_at"] + pd.Timedelta(days=age)
        open_ = ~(leads["converted_at"] <= as_of).to_numpy()
        p = _probability(row, leads, times, as_of, horizon_days)
        parts.append(
            pd.DataFrame(
                {"lead_id": leads["lead_id"], "as_of": as_of, "age_days": age, "probability": p}
            )[open_]
        )
    return pd.concat(parts, ignore_index=True)


def _probability(
    row: np.ndarray, leads: pd.DataFrame, times: EventTimes, as_of: pd.Series, horizon: float
) -> np.ndarray:
    since = np.asarray(as_of.array.as_unit("us") - leads["created_at"].array.as_unit("us"))
    age = since / np.timedelta64(1, "D")
    shares = profile_shares(leads)
    log_post = row + event_log_likelihood(times, since.astype("timedelta64[us]"), shares)
    log_post[:, BUYER] += closing.log_survival(age, leads)
    buyer = softmax(log_post, axis=1)[:, BUYER]  # a bot's buyer column is -inf: 0
    return buyer * closing.within_horizon(age, horizon, leads)
