"""The options of a scoring run, with their defaults defined once (the CLI shows these)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd

from leadscore.errors import ConfigError


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container or ``taskset``
    may narrow), not the machine's; where the system does not say (macOS), the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class ScoringOptions:
    """How ``leadscore score`` runs, on one machine or a Dask cluster alike."""

    as_of: pd.Timestamp = field(default_factory=_now)  # the scoring moment, UTC
    max_reject_rate: float = 0.05  # more leads quarantined than this: the scores are not written
    drift_threshold: float = 0.25  # a PSI above this is drift (score and top features)
    fail_on_drift: bool = False  # exit with the drift code instead of only warning
    chunk_size: int = 100_000  # leads scored at a time (over all workers): memory follows it
    model: str = ""  # the model as named (a folder, models:/lead-scorer@champion): the runs table
    # processes scoring chunks in parallel (1: this one alone); each holds the model and a chunk
    workers: int = field(default_factory=usable_cores, kw_only=True)

    def __post_init__(self) -> None:
        moment = pd.Timestamp(self.as_of)
        utc = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
        object.__setattr__(self, "as_of", utc)
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, not {self.workers}")
