"""The form's BANT answers (budget, authority, need, timeline), drawn from the lead's stage.

Each answer is ordered: a latent score, shifted per stage (and for budget by company size, for
authority by seniority), plus standard logistic noise, cut at evenly spaced points into the
options in their order, so the chance of each option is a difference of two logistic functions
and the likelihood of a recorded answer is exact.

**Answers that contradict behaviour.** Timeline and need are answered in one of two styles per
lead: about one buyer in eight answers *guardedly* ("no plans", "low" need: don't call me yet)
and then behaves like any buyer, and about one passive lead in sixteen *overclaims* ("this
quarter", "high") and then fades like any passive lead.

A blank answer (each answer is given with :data:`FILL`, the same for every stage) or a
drop-down left on its placeholder says nothing about the stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from leadscore.config import DriftConfig
from leadscore.generate import drift
from leadscore.generate.funnel import STAGES
from leadscore.generate.vocabulary import ANSWERS, COMPANY_SIZES, JOB_TITLES, PLACEHOLDER

FILL = 0.8  # each answer is given with this chance (bots: BOT_FILL), whatever the stage
BOT_FILL = 0.1
UNTOUCHED = 0.04  # of the given drop-downs, left on the placeholder
# Latent shift per stage (passive, researcher, buyer); positive moves towards later options.
BUDGET_SHIFT = (-0.3, -0.8, 0.6)  # options from "<10k" to "250k+"
BUDGET_PER_SIZE_TIER = 0.5  # per size tier above the middle; a blank size is the middle
AUTHORITY_SHIFT = (0.3, 0.8, -0.6)  # from "Decision maker" to "Not involved"
SENIORITY_RANK = {  # senior titles answer "decision maker" more; a blank title ranks 0
    "c_level": -2.0,
    "vp": -1.5,
    "director": -1.0,
    "manager": 0.0,
    "individual": 1.0,
    "intern_student": 2.5,
}
# Styles of answering timeline (from "This quarter" to "No plans") and need (from "High" to
# "Low"), per stage: (share of the stage, timeline shift, need shift).
STYLES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "passive": ((15 / 16, 0.8, 0.5), (1 / 16, -1.8, -1.8)),  # overclaimers
    "researcher": ((1.0, -0.9, -1.1),),  # evaluating for someone else: keen answers
    "buyer": ((7 / 8, -1.3, -1.5), (1 / 8, 2.2, 1.8)),  # guarded buyers
}


def draw_answers(
    rng: np.random.Generator,
    leads: pd.DataFrame,
    stage: np.ndarray,
    bot: np.ndarray,
    *,
    drift_cfg: DriftConfig,
) -> pd.DataFrame:
    """The four answer columns as the form records them (blanks and placeholders included)."""
    n = len(leads)
    rows = drift.drifted(leads["created_at"], drift_cfg)
    share = np.array([STYLES[s][0][0] for s in STAGES])[stage]
    second = rng.random(n) >= share  # the stage's other style, where it has one
    shifts = _shifts(leads, second)
    out = {}
    for field, options in ANSWERS.items():
        noise = rng.logistic(size=n)
        meant = np.searchsorted(_cuts(len(options)), shifts[field][np.arange(n), stage] + noise)
        recorded = drift.record_answers(meant, field, rows, drift_cfg)
        given = rng.random(n) < np.where(bot, BOT_FILL, FILL)
        untouched = rng.random(n) < UNTOUCHED
        answer = np.asarray(options, dtype=object)[recorded]
        out[field] = np.where(given, np.where(untouched, PLACEHOLDER, answer), np.array(None))
    return pd.DataFrame(out, index=leads.index)


def answer_log_likelihood(leads: pd.DataFrame, *, drift_cfg: DriftConfig) -> np.ndarray:
    """log P(the recorded answers | stage), shape (leads, 3): a mixture over answer styles for
    timeline and need, independent answers otherwise."""
    rows = drift.drifted(leads["created_at"], drift_cfg)
    total = np.zeros((len(leads), len(STAGES)))
    for field in ("budget", "authority"):
        total += np.log(_answer_probability(leads, field, _shifts(leads)[field], rows, drift_cfg))
    for c, stage in enumerate(STAGES):
        mixture = np.zeros(len(leads))
        for k, (weight, *_) in enumerate(STYLES[stage]):
            shifts = _shifts(leads, np.full(len(leads), k == 1))
            p = np.full(len(leads), weight)
            for field in ("timeline", "need"):
                p = p * _answer_probability(leads, field, shifts[field], rows, drift_cfg)[:, c]
            mixture += p
        total[:, c] += np.log(mixture)
    return total


def _shifts(leads: pd.DataFrame, second: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Each field's latent shift, shape (leads, 3); timeline and need in each stage's first
    style unless ``second`` marks the leads answering in their stage's other one."""
    tier = leads["company_size"].map(
        {raw: i for i, (_, raws, _) in enumerate(COMPANY_SIZES) for raw in raws}
    )
    rank = leads["job_title"].map({t: SENIORITY_RANK[s] for t, s, _, _ in JOB_TITLES})
    second = np.zeros(len(leads), bool) if second is None else second
    tier_shift = BUDGET_PER_SIZE_TIER * (tier.astype("float64").fillna(2.5).to_numpy() - 2.5)
    return {
        "budget": np.add.outer(tier_shift, BUDGET_SHIFT),
        "authority": np.add.outer(rank.astype("float64").fillna(0.0).to_numpy(), AUTHORITY_SHIFT),
        "timeline": _style_shift(second, 1),
        "need": _style_shift(second, 2),
    }


def _style_shift(second: np.ndarray, position: int) -> np.ndarray:
    """(leads, 3): the shift of each stage's first style, or of its last where ``second``."""
    return np.column_stack(
        [np.where(second, STYLES[s][-1][position], STYLES[s][0][position]) for s in STAGES]
    )


def _answer_probability(
    leads: pd.DataFrame, field: str, shift: np.ndarray, rows: np.ndarray, cfg: DriftConfig
) -> np.ndarray:
    """P(the recorded answer | stage) per lead, shape (leads, 3); 1 where nothing was given."""
    options = ANSWERS[field]
    edges = np.concatenate([[-np.inf], _cuts(len(options)), [np.inf]])
    cdf = expit(edges[None, None, :] - shift[:, :, None])
    meant = np.diff(cdf, axis=2)  # (leads, stages, options)
    moved = meant @ drift.meaning_matrix(field, cfg)
    recorded = np.where(rows[:, None, None], moved, meant)
    index = pd.Series(leads[field]).map({o: i for i, o in enumerate(options)})
    known = index.notna().to_numpy()
    picked = np.take_along_axis(
        recorded, index.fillna(0).astype("int64").to_numpy()[:, None, None], axis=2
    )[:, :, 0]
    return np.where(known[:, None], picked, 1.0)


def _cuts(k: int) -> np.ndarray:
    return np.linspace(-1.5, 1.5, k - 1)
