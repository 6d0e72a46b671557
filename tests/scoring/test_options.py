"""The scoring options: one home for their defaults, and the moment always in UTC."""

from __future__ import annotations

import inspect

import pandas as pd

from leadscore.cli.operations import score
from leadscore.scoring.options import ScoringOptions


def test_the_moment_is_utc_whatever_it_was_given_as():
    naive = ScoringOptions(as_of=pd.Timestamp("2026-11-01 02:00"))
    assert naive.as_of == pd.Timestamp("2026-11-01 02:00", tz="UTC")
    paris = ScoringOptions(as_of=pd.Timestamp("2026-11-01 03:00", tz="Europe/Paris"))
    assert paris.as_of == pd.Timestamp("2026-11-01 02:00", tz="UTC")
    now = ScoringOptions().as_of
    assert abs(pd.Timestamp.now(tz="UTC") - now) < pd.Timedelta(minutes=1)


def test_the_command_line_takes_its_defaults_from_the_options():
    parameters = inspect.signature(score).parameters
    options = ScoringOptions()
    for name in ("max_reject_rate", "drift_threshold", "fail_on_drift", "chunk_size", "workers"):
        assert parameters[name].default == getattr(options, name), name
