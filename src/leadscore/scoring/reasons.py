"""Per-lead reasons: the top signals behind a score, in a marketer's words.

Each reason is a group of features that come from one raw input (a form field, the event log, the
user agent), named by the feature of the group that moved the lead's score most, with the lead's
value and its signed contribution to the log-odds (exact TreeSHAP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.config import SchemaConfig
from leadscore.features import FeatureInfo, describe_feature

N_REASONS = 3


@dataclass(frozen=True)
class Signals:
    """Features grouped by the raw input they come from, the way reasons name them; built once
    per scorer, as a lead's reasons only need its numbers."""

    infos: list[FeatureInfo]
    member: np.ndarray  # each feature's group
    onehot: np.ndarray  # features x groups

    @classmethod
    def of(cls, names: list[str], schema: SchemaConfig | None = None) -> Signals:
        infos = [describe_feature(n, schema) for n in names]
        sources = [i.source for i in infos]
        groups = sorted(set(sources))
        member = np.array([groups.index(s) for s in sources])
        onehot = np.zeros((len(names), len(groups)))
        onehot[np.arange(len(names)), member] = 1.0
        return cls(infos, member, onehot)


def explain(
    contributions: np.ndarray, values: np.ndarray, signals: Signals, *, top: int = N_REASONS
) -> list[str]:
    """Top signals per lead, grouped by raw input, in a marketer's words with signed log-odds.

    Each signal is named by the feature of its group that moved this lead's score most, with the
    lead's value: "Pricing-page views in the last 7 days: 3 (+0.54)"; a column the ``schema``
    declares is named as the CRM names it ("Total Time Spent on Website: 847 (+1.40)").
    """
    grouped = contributions @ signals.onehot
    order = np.argsort(-np.abs(grouped), axis=1)[:, :top]
    strength = np.abs(contributions)
    reasons = []
    for i, row in enumerate(order):
        parts = []
        for g in row:
            if grouped[i, g] == 0:
                continue
            inside = np.flatnonzero(signals.member == g)
            k = inside[np.argmax(strength[i, inside])]
            text = signals.infos[k].description
            parts.append(f"{text}: {_shown(values[i, k])} ({grouped[i, g]:+.2f})")
        reasons.append("; ".join(parts))
    return reasons


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "not given"
    if isinstance(value, float):
        return f"{value:g}" if value.is_integer() else f"{value:.2f}"
    return str(value)
