"""Past scores labelled with what actually happened within the horizon after their scoring moment.

The label is the one the model learnt (:mod:`leadscore.data.snapshots`): a lead scored as of T
converted if its conversion moment falls in ``(T, T + horizon_days]``. A score is judged only once
that horizon has closed (``T + horizon_days <= `` the monitor's moment); a lead already converted
at T is left out, as it is left out of the training snapshots. Outcomes come from the lead table's
own label columns or from the outcomes table declared in ``schema.outcomes``, decoded by
:mod:`leadscore.data.labels`; an outcome that cannot be read is counted, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.config import OutcomesConfig, SchemaConfig
from leadscore.data.labels import outcome_labels
from leadscore.data.schema import stable_ids
from leadscore.errors import ConfigError, SchemaError

LEAD_KEY = "__lead_id"  # the generated lead id of a table with schema.id_from


def outcomes_of(raw: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    """Per lead id (the index): ``converted`` (1, 0, or NaN when undeclared) and
    ``converted_at`` (UTC; NaT when not converted or not readable).

    ``raw`` is the outcomes table when ``schema.outcomes`` is declared, else the lead table with
    its ``converted`` and ``converted_at`` columns.
    """
    if schema.outcomes is not None:
        if schema.outcomes.lead_key is not None:
            raise ConfigError(
                "schema.outcomes.lead_key joins outcomes on another column than the lead id; "
                "the scores table holds lead ids only: give monitor an outcomes table keyed by "
                "lead id"
            )
        if schema.outcomes.converted_at is None:
            raise ConfigError(_NEEDS_DATE.format("schema.outcomes.converted_at"))
        return _labels(raw, schema)
    converted = schema.leads.get("converted")
    at = schema.leads.get("converted_at")
    if converted is None or at is None:
        raise ConfigError(_NEEDS_DATE.format("schema.leads.converted and converted_at"))
    missing = [c for c in (converted, at) if c not in raw.columns]
    if missing:
        raise SchemaError(
            f"outcomes: the lead table has no column(s) {missing} (schema.leads); "
            f"columns found: {list(raw.columns)}"
        )
    if schema.id_from:
        raw = raw.assign(**{LEAD_KEY: stable_ids(raw, schema.id_from)})
    key = LEAD_KEY if schema.id_from else schema.leads.get("lead_id", "lead_id")
    as_outcomes = OutcomesConfig(key=key, status=converted, converted_at=at)
    dates = schema.dates.model_copy(update={"outcomes": schema.dates.leads})
    return _labels(raw, schema.model_copy(update={"outcomes": as_outcomes, "dates": dates}))


_NEEDS_DATE = (
    "monitor needs the conversion moment to tell a conversion within the horizon from a later "
    "one: map {}"
)


def _labels(raw: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    labels = outcome_labels(raw, schema)
    unreadable = labels["bad_date"] | ((labels["converted"] == 1) & labels["converted_at"].isna())
    return labels.assign(converted=labels["converted"].where(~unreadable))[
        ["converted", "converted_at"]
    ]


@dataclass(frozen=True)
class Labelled:
    """Scores whose horizon has closed, with their outcome ``y``; and what was left out."""

    scores: pd.DataFrame  # lead_id, as_of, probability, band, model_version, y
    counts: dict[str, int]


def label_scores(
    scores: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    horizon_days: float,
    now: pd.Timestamp,
    absent_is_negative: bool,
) -> Labelled:
    """Join the scores to their outcomes; count each score that cannot be judged, and why.

    ``absent_is_negative``: a lead missing from the outcomes means "did not convert" (a table of
    closed deals), or that its outcome is unknown (a lead table that lost the lead).
    """
    horizon = pd.Timedelta(days=horizon_days)
    frame = scores[["lead_id", "as_of", "probability", "band", "model_version"]].copy()
    frame["lead_id"] = frame["lead_id"].astype("str")
    frame["as_of"] = _moments(frame["as_of"])
    frame["probability"] = pd.to_numeric(frame["probability"]).astype("float64")
    closed = frame["as_of"] + horizon <= now
    found = frame["lead_id"].isin(outcomes.index)
    matched = outcomes.reindex(frame["lead_id"])
    converted = pd.Series(matched["converted"].to_numpy(dtype="float64"), index=frame.index)
    at = pd.Series(matched["converted_at"].array, index=frame.index)
    if absent_is_negative:
        converted = converted.where(found, 0.0)
    unknown = converted.isna()
    before = (converted == 1) & (at <= frame["as_of"])
    within = (converted == 1) & (at > frame["as_of"]) & (at <= frame["as_of"] + horizon)
    keep = closed & ~unknown & ~before
    counts = {
        "scores": len(frame),
        "horizon_open": int((~closed).sum()),
        "no_outcome": int((closed & unknown).sum()),
        "converted_before_scoring": int((closed & ~unknown & before).sum()),
        "judged": int(keep.sum()),
    }
    labelled = frame[keep].assign(y=within[keep].astype("int8").to_numpy())
    return Labelled(labelled.reset_index(drop=True), counts)


def _moments(values: pd.Series) -> pd.Series:
    """The scores table's own ``as_of`` (written by leadscore: a timestamp, or ISO-8601 text
    where a CSV file or a database kept it as text), in UTC."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values, utc=True)
    return pd.to_datetime(values.astype("str"), utc=True, format="ISO8601")
