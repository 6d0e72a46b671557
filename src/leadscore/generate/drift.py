"""A change in the funnel from a given day on (``generate.drift``), for monitoring to catch.

Three kinds, any combination, all applied to the leads created on or after ``drift.start``
(midnight UTC) and to no earlier lead; the random draws do not depend on them, so every lead
before that day is identical with and without the drift:

- ``channel_mix``: the share of each named source is multiplied by its factor (the others keep
  theirs, then all are renormalised). Who arrives changes, not how a lead of a given kind
  behaves: a covariate shift.
- ``base_rate_shift``: added to every lead's log-odds of being a buyer (against passive): more or
  fewer of the same leads convert, a concept shift a fixed model misses.
- ``answer_meaning``: a form answer's meaning changes (a redesigned drop-down): a lead who means
  one option picks ``mapping[option]``. Options not named keep their meaning.

The truth follows each shift exactly: the prior, the source shares and the likelihood of the
recorded answer all read the same configuration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import DriftConfig
from leadscore.errors import ConfigError
from leadscore.generate.vocabulary import ANSWERS, SOURCES


def check_drift(cfg: DriftConfig) -> None:
    """Name the source or answer the vocabulary does not know (a misspelt drift is an error)."""
    unknown = sorted(set(cfg.channel_mix) - set(SOURCES))
    if unknown:
        raise ConfigError(
            f"generate.drift.channel_mix: unknown source(s) {unknown}; known: {list(SOURCES)}"
        )
    if cfg.answer_meaning is not None:
        meaning = cfg.answer_meaning
        options = ANSWERS[meaning.field]
        bad = sorted({*meaning.mapping, *meaning.mapping.values()} - set(options))
        if bad:
            raise ConfigError(
                f"generate.drift.answer_meaning: {bad} are not {meaning.field} answers; "
                f"known: {list(options)}"
            )


def drifted(created_at: pd.Series, cfg: DriftConfig) -> np.ndarray:
    """Whether each lead arrived on or after the drift's start (never, when drift is off)."""
    if cfg.start is None:
        return np.zeros(len(created_at), dtype=bool)
    return (created_at >= pd.Timestamp(cfg.start, tz="UTC")).to_numpy()


def base_rate_shift(leads: pd.DataFrame, cfg: DriftConfig) -> np.ndarray:
    """The drift's term of each lead's buyer log-odds."""
    return np.where(drifted(leads["created_at"], cfg), cfg.base_rate_shift, 0.0)


def source_log_factors(created_at: pd.Series, cfg: DriftConfig) -> np.ndarray:
    """(leads, sources) terms added to the log-weights of :data:`SOURCES`."""
    factors = np.log([cfg.channel_mix.get(s, 1.0) for s in SOURCES])
    return np.outer(drifted(created_at, cfg), factors)


def meaning_matrix(field: str, cfg: DriftConfig) -> np.ndarray:
    """(meant, recorded) 0/1 matrix over the field's options after the drift (identity if the
    drift leaves the field alone)."""
    options = ANSWERS[field]
    moved = cfg.answer_meaning.mapping if _moves(field, cfg) else {}  # type: ignore[union-attr]
    out = np.zeros((len(options), len(options)))
    for i, option in enumerate(options):
        out[i, options.index(moved.get(option, option))] = 1.0
    return out


def record_answers(
    meant: np.ndarray, field: str, drift_rows: np.ndarray, cfg: DriftConfig
) -> np.ndarray:
    """The answers the form records: ``meant`` (option indices) moved where the drift applies."""
    moved = np.argmax(meaning_matrix(field, cfg), axis=1)
    return np.where(drift_rows, moved[meant], meant)


def _moves(field: str, cfg: DriftConfig) -> bool:
    return cfg.answer_meaning is not None and cfg.answer_meaning.field == field
