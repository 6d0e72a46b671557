"""The artifact's MLflow signature and input example, both in the user's column names.

The signature is the input contract (:mod:`leadscore.scoring.contract`) as MLflow states it:
each lead column (only ``lead_id`` and ``created_at`` required), an optional ``as_of`` and an
optional ``events`` column holding each lead's events as a list of records. MLflow checks every
input against it, in ``mlflow.pyfunc`` and ``mlflow models serve`` alike. Text is ``string``;
timestamps and numbers are ``any``, and leadscore parses them as batch scoring does: MLflow's
``datetime`` takes neither ISO text with a zone nor zone-aware datetimes, and its ``double``
refuses a column of whole numbers (JSON ``1532``, or a CSV read by pandas).

The example is one held-out lead as a caller would send it, personal columns left out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, Array, ColSpec, DataType, Object, Property, Schema

from leadscore.config import SchemaConfig
from leadscore.scoring.contract import AS_OF, EVENTS, lead_columns, nested_event_columns

_TYPES: dict[str, Any] = {"text": DataType.string}  # everything else: any
EXAMPLE_EVENTS = 3  # the example is a lead with about this many events, to show their form
_OUTPUTS = {
    "lead_id": DataType.string,
    "as_of": DataType.datetime,
    "probability": DataType.double,
    "score": DataType.long,
    "model_probability": DataType.double,
    "fit_score": DataType.double,
    "fit_grade": DataType.string,
    "band": DataType.string,
    "reasons": DataType.string,
    "fit_rules": DataType.string,
    "model_version": DataType.string,
    "scored_at": DataType.datetime,
}


def model_signature(schema: SchemaConfig) -> ModelSignature:
    """The input contract of a model trained with ``schema``, and its scores table."""
    leads = [
        ColSpec(_TYPES.get(c.kind, AnyType()), c.column, required=c.required)
        for c in lead_columns(schema)
    ]
    event = Object(
        [
            Property(c.column, _TYPES.get(c.kind, AnyType()), required=c.required)
            for c in nested_event_columns(schema)
        ]
    )
    inputs = Schema(
        [
            *leads,
            ColSpec(AnyType(), AS_OF, required=False),
            ColSpec(Array(event), EVENTS, required=False),
        ]
    )
    outputs = Schema([ColSpec(kind, name) for name, kind in _OUTPUTS.items()])
    return ModelSignature(inputs=inputs, outputs=outputs)


def input_example(
    schema: SchemaConfig,
    features: pd.DataFrame,
    leads: pd.DataFrame,
    events: pd.DataFrame | None,
) -> pd.DataFrame:
    """One held-out snapshot as the pyfunc takes it: the lead's columns under the user's names
    (personal ones left out: the example is logged to MLflow), its moment and, with an event
    log, its events up to that moment.

    ``leads`` and ``events`` are the validated canonical tables the pipeline trained on.
    """
    lead_id, as_of = _snapshot(features, events)
    lead = leads.loc[leads["lead_id"] == lead_id].iloc[0]
    row = {
        c.column: _plain(lead[c.name])
        for c in lead_columns(schema)
        if not c.personal and c.name in lead.index
    }
    if pd.notna(as_of):  # a table without timestamps has no moments: the pyfunc takes now
        row[AS_OF] = _plain(as_of)
    if events is not None:
        own = events[(events["lead_id"] == lead_id) & (events["ts"] <= as_of)]
        columns = [c for c in nested_event_columns(schema) if c.name in own]
        row[EVENTS] = [
            {c.column: _plain(value) for c, value in zip(columns, values, strict=True)}
            for values in own[[c.name for c in columns]].itertuples(index=False)
        ]
    return pd.DataFrame([row])


def _snapshot(features: pd.DataFrame, events: pd.DataFrame | None) -> tuple[str, pd.Timestamp]:
    """A held-out (lead, as-of) with about :data:`EXAMPLE_EVENTS` events by then (with a log)."""
    held_out = features[features["split"] == "test"][["lead_id", "as_of"]]
    rows = held_out if len(held_out) else features[["lead_id", "as_of"]]
    rows = rows.sort_values(["as_of", "lead_id"], kind="stable").reset_index(drop=True)
    if events is None:
        first = rows.iloc[0]
        return first["lead_id"], first["as_of"]
    paired = rows.reset_index().merge(events[["lead_id", "ts"]], on="lead_id")
    seen = paired[paired["ts"] <= paired["as_of"]].groupby("index").size()
    counts = seen.reindex(rows.index, fill_value=0)
    pick = int((counts - EXAMPLE_EVENTS).abs().idxmin())
    return rows.loc[pick, "lead_id"], rows.loc[pick, "as_of"]


def _plain(value: object) -> object:
    """A JSON value: ISO-8601 UTC text for a moment, None for a missing value."""
    if isinstance(value, pd.Timestamp):
        utc = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
        return utc.isoformat().replace("+00:00", "Z")
    if value is None or (not isinstance(value, list | dict) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
