"""Shared fixtures: one small seeded demo data set, validated the way the pipeline does it."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.config import GenerateConfig, Params
from leadscore.generate import DemoData, generate_demo
from leadscore.validation import validate_events, validate_leads


@pytest.fixture(scope="session")
def demo() -> DemoData:
    return generate_demo(GenerateConfig(n_leads=3000, seed=7))


@pytest.fixture(scope="session")
def params() -> Params:
    return Params()


@pytest.fixture(scope="session")
def clean(demo: DemoData, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo leads and events after validation: canonical columns, parsed timestamps."""
    now = pd.Timestamp("2026-11-01", tz="UTC")
    leads = validate_leads(demo.leads, params.schema_, now, 24).valid
    events = validate_events(demo.events, params.schema_, leads["lead_id"], now, 24).valid
    return leads, events
