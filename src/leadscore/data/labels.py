"""The label: declared values of a lead's own column, or a second table of outcomes.

A CRM export writes its outcome as ``YES``/``NO``, ``Won``/``Lost`` or ``1``/``0``, in the lead
table or in a table of closed deals keyed by the lead. ``schema.label`` declares which values
mean converted and which do not; a value that is neither is a validation reason, never guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import LabelConfig, SchemaConfig
from leadscore.data.schema import stable_ids
from leadscore.data.timestamps import parse_timestamps
from leadscore.errors import ConfigError, SchemaError


def decode_label(values: pd.Series, label: LabelConfig) -> pd.Series:
    """1.0 for a declared positive value, 0.0 for a declared negative one, NaN otherwise.

    Numbers are compared as numbers when every declared value is one (so ``1``, ``1.0`` and
    ``"1"`` agree); anything else as trimmed text, a blank cell being the empty text.
    """
    declared = pd.Series([*label.positive, *label.negative], dtype="str")
    numbers = pd.to_numeric(declared, errors="coerce")
    if numbers.notna().all():
        text = values if values.dtype.kind in "biuf" else values.astype("str").str.strip()
        given = pd.to_numeric(text, errors="coerce").astype("float64")
        declared = numbers
    else:
        given = values.astype("str").str.strip().where(values.notna(), "")
    positive, negative = declared[: len(label.positive)], declared[len(label.positive) :]
    out = pd.Series(np.nan, index=values.index)
    out[given.isin(negative).to_numpy()] = 0.0
    out[given.isin(positive).to_numpy()] = 1.0
    return out


def undeclared_values(values: pd.Series, decoded: pd.Series, limit: int = 5) -> list[str]:
    """The most frequent values that are neither positive nor negative, for a clear message."""
    odd = values[decoded.isna()]
    return [str(v) for v in odd.astype("str").value_counts().index[:limit]]


SEEN_VALUES = 8  # label values listed when some are neither positive nor negative


def label_seen(raw: pd.DataFrame, schema: SchemaConfig, outcomes: pd.DataFrame | None) -> dict:
    """What the label column (or the outcomes' status) holds, most frequent values first with
    their counts (a blank as ``""``), beside the declared values: for the message that tells a
    user why rows were rejected. Only label values are listed, never a lead's other fields."""
    cfg = schema.outcomes
    if cfg is not None and cfg.status is not None and outcomes is not None:
        values = outcomes[cfg.status]
    else:
        values = raw.get(schema.leads.get("converted", "converted"), pd.Series(dtype="str"))
    text = values.astype("str").str.strip().where(values.notna(), "")
    counts = text.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    counts = counts.head(SEEN_VALUES)  # most frequent first, ties in text order
    return {
        "seen": {str(v): int(n) for v, n in counts.items()},
        "positive": list(schema.label.positive),
        "negative": list(schema.label.negative),
    }


def outcome_labels(outcomes: pd.DataFrame, schema: SchemaConfig) -> pd.DataFrame:
    """Per key of the outcomes table: ``converted`` (1, 0, or NaN when a row's status is
    undeclared), ``converted_at`` (the earliest converting row's date, UTC) and
    ``bad_date`` (a converting row's date given but unreadable).

    Without ``status`` every row is a conversion; with it, a key converts when any of its rows
    has a positive status.
    """
    cfg = schema.outcomes
    if cfg is None:
        raise ValueError("schema.outcomes is not declared")
    needed = [c for c in (cfg.key, cfg.status, cfg.converted_at) if c is not None]
    absent = [c for c in needed if c not in outcomes.columns]
    if absent:
        raise SchemaError(
            f"outcomes table is missing column(s) {absent} named in schema.outcomes; "
            f"columns found: {list(outcomes.columns)}"
        )
    key = outcomes[cfg.key].astype("str").str.strip()
    status = (
        decode_label(outcomes[cfg.status], schema.label)
        if cfg.status is not None
        else pd.Series(1.0, index=outcomes.index)
    )
    rows = pd.DataFrame({"key": key, "converted": status}).dropna(subset=["key"])
    if cfg.converted_at is not None:
        raw = outcomes[cfg.converted_at]
        at = parse_timestamps(
            raw, schema.dates.of("outcomes", cfg.converted_at), table="outcomes",
            column=cfg.converted_at,
        )  # fmt: skip
        converting = status == 1
        rows["converted_at"] = at.where(converting)
        rows["bad_date"] = converting & raw.notna() & at.isna() & (raw.astype("str") != "")
    else:
        rows["converted_at"] = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]")
        rows["bad_date"] = False
    grouped = rows.groupby("key", sort=False)
    undeclared = rows["converted"].isna().groupby(rows["key"], sort=False).any()
    return pd.DataFrame(
        {
            "converted": grouped["converted"].max().where(~undeclared),
            "converted_at": grouped["converted_at"].min(),
            "bad_date": grouped["bad_date"].any(),
        }
    )


def require_label(raw: pd.DataFrame, schema: SchemaConfig, outcomes: pd.DataFrame | None) -> None:
    """Training needs an outcome: the leads' label column, or the outcomes table declared."""
    if schema.outcomes is not None and outcomes is None:
        raise ConfigError("schema.outcomes is declared: give the outcomes table (--outcomes)")
    if schema.outcomes is None and outcomes is not None:
        raise ConfigError("an outcomes table was given but schema.outcomes does not map it")
    column = schema.leads.get("converted")
    if schema.outcomes is None and (column is None or column not in raw.columns):
        raise SchemaError(
            f"leads table has no label column '{column or 'converted'}' (schema.leads.converted);"
            f" training needs the outcome: map the column, or declare schema.outcomes; "
            f"columns found: {list(raw.columns)}"
        )


AUDIT_ID, AUDIT_LABEL = "leadscore_lead_id", "leadscore_converted"


def audit_input(
    raw: pd.DataFrame, valid: pd.DataFrame, schema: SchemaConfig
) -> tuple[pd.DataFrame, SchemaConfig]:
    """The raw leads as the leakage audit reads them: the user's columns plus each row's lead id
    (generated when the table has none) and its validated 0/1 label, and the mapping to them."""
    id_column = AUDIT_ID if schema.id_from else schema.leads.get("lead_id", "lead_id")
    ids = stable_ids(raw, schema.id_from) if schema.id_from else raw[id_column].astype("str")
    label_column = AUDIT_LABEL if schema.outcomes else schema.leads.get("converted", "converted")
    label = ids.map(valid.drop_duplicates("lead_id").set_index("lead_id")["converted"])
    frame = raw.assign(**{id_column: ids, label_column: label.astype("float64")})
    mapping = schema.leads | {"lead_id": id_column, "converted": label_column}
    return frame, schema.model_copy(update={"leads": mapping, "id_from": (), "outcomes": None})
