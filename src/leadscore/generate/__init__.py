"""Synthetic demo data that behaves like a real funnel, with the truth it was drawn from.

The process, in order (each step documented in its module):

1. :mod:`~leadscore.generate.leads` draws who the leads are, where they are (city, region and
   time zone), when they arrived (weekday and hour seasonality in local time), their device and
   what they filled in, shaped by a hidden intent;
2. :mod:`~leadscore.generate.events` draws their engagement, more and keener with intent;
3. :mod:`~leadscore.generate.process` computes the conversion probability from what is observable
   at the default scoring moment T = ``created_at + snapshot_age_days`` and draws conversion, at a
   uniform moment within ``horizon_days`` after T; converters get a short sales-cycle burst of
   events between T and conversion;
4. everything after the export moment (the last lead's arrival) is censored, and a few dirty rows
   (late duplicate ids, placeholder answers, mistyped e-mails, garbage phones, an unknown event
   type) keep the validation honest.

The truth table holds, per lead, T and the exact probability used: the best any model can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.config import GenerateConfig
from leadscore.generate.events import draw_events, draw_sales_cycle
from leadscore.generate.leads import draw_leads
from leadscore.generate.process import conversion_probability
from leadscore.generate.useragents import user_agents

DUPLICATE_SHARE = 0.001  # re-submitted forms: a later copy of an existing lead id

__all__ = ["DemoData", "conversion_probability", "generate_demo"]


@dataclass(frozen=True)
class DemoData:
    leads: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame


def generate_demo(cfg: GenerateConfig) -> DemoData:
    """Draw the demo tables; the same config always gives the same tables."""
    rng = np.random.default_rng(cfg.seed)
    leads, intent = draw_leads(rng, cfg)
    bot = leads["user_agent"].map(user_agents().set_index("user_agent")["kind"]) == "bot"
    events = draw_events(rng, leads, intent, bot.to_numpy())
    as_of = leads["created_at"] + pd.Timedelta(days=cfg.snapshot_age_days)
    probability = conversion_probability(leads, events, as_of)
    converted = rng.random(len(leads)) < probability
    delay = pd.to_timedelta(np.round(rng.random(len(leads)) * cfg.horizon_days * 86400e6), "us")
    converted_at = (as_of + delay).where(converted)
    cycle = draw_sales_cycle(rng, leads[converted], as_of[converted], converted_at[converted])
    export_at = leads["created_at"].max()
    converted_at = converted_at.where(converted_at <= export_at)
    leads["converted"] = converted_at.notna().astype("int8")
    leads["converted_at"] = converted_at
    events = pd.concat([events, cycle], ignore_index=True)
    events = events[events["ts"] <= export_at].sort_values(["ts", "lead_id"], kind="stable")
    truth = pd.DataFrame({"lead_id": leads["lead_id"], "as_of": as_of, "probability": probability})
    return DemoData(
        leads=_with_duplicates(rng, leads, export_at),
        events=events.reset_index(drop=True),
        truth=truth,
    )


def _with_duplicates(rng: np.random.Generator, leads: pd.DataFrame, export_at) -> pd.DataFrame:
    """Append later re-submissions of a few leads; validation must keep the first and quarantine
    the copy."""
    copies = leads.sample(frac=DUPLICATE_SHARE, random_state=rng).copy()
    later = pd.to_timedelta(rng.integers(1, 48, len(copies)), unit="h")
    copies["created_at"] = (copies["created_at"] + later).clip(upper=export_at)
    copies["converted"] = np.int8(0)
    copies["converted_at"] = copies["converted_at"].where(copies["converted_at"].isna())
    return pd.concat([leads, copies], ignore_index=True)
