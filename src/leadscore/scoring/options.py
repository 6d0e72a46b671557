"""The options of a scoring run, with their defaults defined once (the CLI shows these)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


@dataclass(frozen=True)
class ScoringOptions:
    """How ``leadscore score`` runs, on one machine or a Dask cluster alike."""

    as_of: pd.Timestamp = field(default_factory=_now)  # the scoring moment, UTC
    max_reject_rate: float = 0.05  # more leads quarantined than this: the scores are not written
    drift_threshold: float = 0.25  # a PSI above this is drift (score and top features)
    fail_on_drift: bool = False  # exit with the drift code instead of only warning
    chunk_size: int = 100_000  # leads per chunk: memory grows with it, not with the table
    model: str = ""  # the model as named (a folder, models:/lead-scorer@champion): the runs table

    def __post_init__(self) -> None:
        moment = pd.Timestamp(self.as_of)
        utc = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
        object.__setattr__(self, "as_of", utc)
