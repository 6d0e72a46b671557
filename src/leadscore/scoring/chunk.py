"""One chunk of a nightly run: the steps that must run in order, then the scoring that need not.

:func:`check_chunk` validates a chunk's leads, which needs every earlier chunk (a copy of a lead
kept earlier is a duplicate), and fetches their events; :func:`score_valid` featurizes and scores
what it returns and depends on nothing else, so chunks can be scored in other processes (see
:mod:`leadscore.scoring.chunk_pool`) or on a Dask cluster and give the same rows and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.data.lookups import RowLookup
from leadscore.data.validation import (
    QUARANTINE_COLUMNS,
    SeenIds,
    validate_events,
    validate_leads,
)
from leadscore.scoring.drift import bin_counts
from leadscore.scoring.scorer import TOP_BAND, Scorer

FUTURE_TOLERANCE_HOURS = 0.0  # at scoring time, nothing may come from after the as-of moment
COUNTS: tuple[str, ...] = ("read", "scored", "quarantined", "events_read", "events_quarantined")


@dataclass
class Tally:
    """What the chunks add up to: the run summary's counts and the drift bins."""

    read: int = 0
    scored: int = 0
    quarantined: int = 0
    events_read: int = 0
    events_quarantined: int = 0
    bands: Counter = field(default_factory=Counter)
    scores: Counter = field(default_factory=Counter)  # leads per 0-100 score: the runs table
    drift: dict[str, np.ndarray] = field(default_factory=dict)
    seen: SeenIds = field(default_factory=SeenIds)

    def add(self, other: Tally) -> None:
        """Add another part's counts (a partition scored elsewhere); lead ids are not merged."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.bands.update(other.bands)
        self.scores.update(other.scores)
        for column, count in other.drift.items():
            self.drift[column] = self.drift.get(column, 0) + count


@dataclass(frozen=True)
class CheckedChunk:
    """A chunk after its in-order steps: its size, its rejected leads, its valid leads and their
    events as read (None: no event log, or no valid lead)."""

    read: int
    quarantine: pd.DataFrame
    leads: pd.DataFrame
    events: pd.DataFrame | None


def score_chunk(
    scorer: Scorer,
    chunk: pd.DataFrame,
    lookup: RowLookup | None,
    *,
    as_of: pd.Timestamp,
    tally: Tally,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate, featurize and score one chunk; add its counts to ``tally``."""
    checked = check_chunk(scorer, chunk, lookup, as_of=as_of, tally=tally)
    scores, rejected = score_valid(scorer, checked.leads, checked.events, as_of=as_of, tally=tally)
    return scores, quarantine_of(checked.quarantine, rejected)


def check_chunk(
    scorer: Scorer,
    chunk: pd.DataFrame,
    lookup: RowLookup | None,
    *,
    as_of: pd.Timestamp,
    tally: Tally,
) -> CheckedChunk:
    """Validate a chunk's leads against those kept so far (``tally.seen``) and fetch the valid
    ones' events; add the lead counts to ``tally``."""
    leads = validate_leads(
        chunk,
        schema=scorer.schema,
        now=as_of,
        future_tolerance_hours=FUTURE_TOLERANCE_HOURS,
        seen=tally.seen,
        labels=False,  # labels are not scoring inputs: an unlabelled export scores
    )
    tally.read += leads.n_input
    tally.quarantined += len(leads.quarantine)
    events = None
    if lookup is not None and len(leads.valid):
        events = lookup(leads.valid["lead_id"].tolist())
    return CheckedChunk(leads.n_input, leads.quarantine, leads.valid, events)


def score_valid(
    scorer: Scorer,
    leads: pd.DataFrame,
    raw: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    tally: Tally,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Featurize and score validated leads with their events as read (None: none fetched); add
    the counts to ``tally``. Returns the scores and the rejected events."""
    rejected = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    events = None
    if raw is not None:
        # events after the as-of moment are valid, only not yet known then (features skip them)
        checked = validate_events(
            raw,
            leads["lead_id"],
            schema=scorer.schema,
            now=pd.Timestamp.now(tz="UTC"),
            future_tolerance_hours=FUTURE_TOLERANCE_HOURS,
        )
        events = checked.valid
        rejected = checked.quarantine.assign(reason="event:" + checked.quarantine["reason"])
        tally.events_read += len(raw)
        tally.events_quarantined += len(checked.quarantine)
    if leads.empty:
        return leads, rejected
    features = scorer.featurize(leads, events, as_of)
    scores = scorer.scores_table(features, explain_bands=TOP_BAND)
    tally.scored += len(scores)
    tally.bands.update(scores["band"].tolist())
    tally.scores.update(scores["score"].tolist())
    if scorer.drift_reference is not None:
        counts = bin_counts(
            scorer.drift_reference, features.assign(probability=scores["probability"].to_numpy())
        )
        for column, count in counts.items():
            tally.drift[column] = tally.drift.get(column, 0) + count
    return scores, rejected


def quarantine_of(leads: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """A chunk's quarantine: its rejected leads, then its rejected events, as text."""
    return pd.concat([leads, events], ignore_index=True)[QUARANTINE_COLUMNS].astype("str")
