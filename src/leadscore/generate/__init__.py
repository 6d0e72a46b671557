"""Synthetic demo data with the structure real B2B funnels have, and the exact truth behind it.

The process, in order (each step and the size of each effect documented in its module):

1. :mod:`~leadscore.generate.leads` draws who the leads are: city, region and time zone, when
   they arrived (weekday and hour seasonality on their local clock), company, title, e-mail,
   phone, device, channel and landing page, and which optional fields they left blank;
2. :mod:`~leadscore.generate.funnel` draws each lead's hidden stage (passive, researcher or
   buyer) from its row as written: firmographic tiers, seniority, channel x season, free mail,
   local office hours;
3. :mod:`~leadscore.generate.answers` draws the BANT answers from the stage, a few of them
   contradicting the lead's behaviour (guarded buyers, overclaiming passive leads);
4. :mod:`~leadscore.generate.closing` draws when a buyer converts (later for bigger companies)
   and :mod:`~leadscore.generate.events` every lead's engagement until then (fading for passive
   leads and researchers, sustained for buyers);
5. :mod:`~leadscore.generate.truth` computes, at every snapshot age the pipeline uses, the exact
   probability of converting within the horizon given what is observable at that moment;
6. everything after the export moment (the last lead's arrival) is censored, and a few dirty rows
   (late duplicate ids, placeholder answers, mistyped e-mails, garbage phones, an unknown event
   type) keep the validation honest.

The effects and their sizes (log-odds of buyer, researcher against passive unless said; the
constants live in the modules named):

- ICP match (size 51-5,000 and a target industry) +0.8 / -1.0, a size or industry outside it
  0 / +1.5: outside the profile intent mostly comes from researchers, so it gates intent
  (``funnel.ICP``);
- size tiers from 1-10 employees -1.2 / +0.5 to 201-5,000 +0.2 / 0 (``funnel.SIZE``); seniority
  from C-level +0.6 / -0.8 to students -2.5 / +1.8 (``funnel.SENIORITY``); channel, from
  referral +0.6 / -0.3 to social -0.4 / +0.5 (``funnel.SOURCE``); landing section, country,
  free mail -0.7 / +0.7, local office hours +0.2 / 0;
- channel x season on buyers: -0.2 in July and August, -0.3 in December for every channel;
  trade-show leads +0.5 in conference months and -0.4 outside; paid search +0.4 in November and
  December; partners +0.3 at quarter ends (``funnel.SEASON``);
- answers against behaviour: 1 buyer in 8 answers guardedly, 1 passive lead in 16 overclaims
  (``answers.STYLES``);
- engagement that saturates and decays: passive bursts fade in about 3 days, researchers read
  for about a week (bingers at 12 events a day), buyers keep 10-30 % of their first-day pace
  until they buy (``events.TOTAL``, ``events.FADE``, ``events.SUSTAIN``);
- time to close: gamma, mean 8 days for 1-10 employees up to 90 days for 5,000+
  (``closing.MEAN_DAYS``).

:mod:`~leadscore.generate.drift` optionally changes the funnel from a given day on. Each step
draws from its own seeded stream, so a drift changes nothing before its day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.config import LEAD_ROLES, GenerateConfig
from leadscore.generate import closing
from leadscore.generate.answers import draw_answers
from leadscore.generate.drift import check_drift
from leadscore.generate.events import HISTORY_DAYS, draw_events, draw_profile, profile_shares
from leadscore.generate.funnel import BUYER, device, draw_stage, stage_log_prior
from leadscore.generate.leads import draw_leads
from leadscore.generate.truth import conversion_probability, truth_table

DUPLICATE_SHARE = 0.001  # re-submitted forms: a later copy of an existing lead id
STREAMS = ("leads", "stage", "answers", "closing", "profile", "events", "duplicates")

__all__ = ["DemoData", "conversion_probability", "generate_demo"]


@dataclass(frozen=True)
class DemoData:
    leads: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame


def generate_demo(cfg: GenerateConfig) -> DemoData:
    """Draw the demo tables; the same config always gives the same tables."""
    check_drift(cfg.drift)
    seeds = np.random.SeedSequence(cfg.seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seeds, strict=True)}
    leads = draw_leads(rng["leads"], cfg)
    bot = (device(leads) == "bot").to_numpy()
    prior = stage_log_prior(leads, drift_cfg=cfg.drift)
    stage = draw_stage(rng["stage"].random(len(leads)), prior)
    leads = pd.concat(
        [leads, draw_answers(rng["answers"], leads, stage, bot, drift_cfg=cfg.drift)], axis=1
    )
    delay = closing.draw_delay(rng["closing"].random(len(leads)), leads)
    buyer = stage == BUYER
    end_days = np.where(buyer, delay, np.where(bot, 0.0, HISTORY_DAYS))
    profile = draw_profile(rng["profile"].random(len(leads)), stage, profile_shares(leads))
    events = draw_events(rng["events"], leads, profile, end_days)
    converted_at = (leads["created_at"] + pd.to_timedelta(np.round(delay * 86400e6), "us")).where(
        buyer
    )
    leads["converted_at"] = converted_at
    truth = truth_table(
        leads,
        events,
        ages_days=cfg.snapshot_ages_days,
        horizon_days=cfg.horizon_days,
        drift_cfg=cfg.drift,
    )
    export_at = leads["created_at"].max()
    leads["converted_at"] = converted_at.where(converted_at <= export_at)
    leads["converted"] = leads["converted_at"].notna().astype("int8")
    events = events[events["ts"] <= export_at].sort_values(["ts", "lead_id"], kind="stable")
    return DemoData(
        leads=_with_duplicates(rng["duplicates"], leads[list(LEAD_ROLES)], export_at),
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
