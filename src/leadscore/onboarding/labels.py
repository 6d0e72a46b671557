"""Which column of the leads table is the outcome, for ``leadscore init``.

A column named like an outcome (``y``, ``target``, ``Converted``, ``Revenue``, ``Closed Won``)
whose two to four values include one that reads as yes is the label. One named like it that
holds a single yes or no value is the label too: a sample where every lead converted (or none
did) is a cold start to explain, not a column to learn from. Without either, the TODO lists the
columns that could be the label, and none of them becomes part of the generated id: an outcome
changes after a lead arrives, so an id hashed from it would too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from leadscore.config import SchemaConfig
from leadscore.data.labels import decode_label, outcome_labels
from leadscore.data.schema import lead_key
from leadscore.onboarding import roles as r
from leadscore.onboarding.profile import ColumnProfile

if TYPE_CHECKING:
    from leadscore.onboarding.proposal import Proposal

Profiles = dict[str, ColumnProfile]
DRIFT = 0.1  # conversion rates per tenth of the arrival order this far apart: propose refit


def propose_label(schema: dict, profiles: Profiles, used: set[str], found: Proposal) -> None:
    """Map the label (and its date) into ``schema``, or say in a TODO what to declare."""
    free = {c: p for c, p in profiles.items() if c not in used and r.matches(c, r.LABEL_NAME)}
    two = {c: v for c, p in free.items() if (v := r.label_values(p)) is not None}
    one = {c: v for c, p in free.items() if (v := r.one_class_values(p)) is not None}
    if two or one:
        column = next(iter(two or one))
        values = (two or one)[column]
        schema["leads"]["converted"] = column
        schema["label"] = {"positive": list(values[0]), "negative": list(values[1])}
        used.add(column)
        found.outcome_columns.add(column)
        found.note(
            "schema.leads.converted", f"named like an outcome, values {profiles[column].top}"
        )
        found.note("schema.label", "check: any other value is quarantined, never guessed")
        if not two:
            found.todo.append(_one_class_todo(column, profiles[column].top[0], values))
        converted_at = dated(profiles, used, r.CONVERTED_AT_NAME)
        if converted_at is not None:
            schema["leads"]["converted_at"] = converted_at
            used.add(converted_at)
            found.outcome_columns.add(converted_at)
        return
    found.label_candidates = label_candidates(profiles, used)
    found.todo.append(_no_label_todo(found.label_candidates, profiles))


def label_candidates(profiles: Profiles, used: set[str]) -> list[str]:
    """Columns that could hold the outcome: two to four values, one of them reading as yes."""
    return [c for c, p in profiles.items() if c not in used and r.label_values(p) is not None]


def dated(profiles: Profiles, used: set[str], pattern: str) -> str | None:
    """The first free date column named like ``pattern``."""
    return next(
        (
            c
            for c, p in profiles.items()
            if p.kind == "date" and c not in used and r.matches(c, pattern)
        ),
        None,
    )


def _one_class_todo(column: str, seen: str, values: tuple[tuple[str, ...], ...]) -> str:
    if seen in values[0]:
        what = "every lead converted"
        declare = "declare the value that means not converted in schema.label.negative"
    else:
        what = "no lead converted"
        declare = f"check schema.label.positive ('{values[0][0]}' is the usual pair of '{seen}')"
    return (
        f"the label column '{column}' holds only '{seen}' in the sample ({what}): there is "
        f"nothing to learn from yet; {declare}. Until the training window holds "
        "train.min_conversions converted leads and leads that did not convert, this is a cold "
        "start: no model, the fit score alone (docs: Your own table, Cold start)"
    )


def _no_label_todo(candidates: list[str], profiles: Profiles) -> str:
    listed = ", ".join(f"'{c}' {list(profiles[c].top)}" for c in candidates)
    found = (
        f"candidates (two to four values, one reading as yes): {listed}"
        if listed
        else ("no column has two to four values with one reading as yes")
    )
    return (
        "no label column found: map schema.leads.converted to the column that says a lead "
        "converted and schema.label to its values (or declare schema.outcomes for a second "
        f"table), and take that column out of the features and schema.id_from; {found}"
    )


def label_sample(
    schema: dict, leads: pd.DataFrame, outcomes: pd.DataFrame | None, found: Proposal
) -> None:
    """The sample's label as the proposal reads it, for the audit and the fit points."""
    # an id from every other column, only so the mapping validates: the label (or its date)
    # as an id part is refused by the config, which would leave the sample unlabelled
    outcome = {schema["leads"].get(r) for r in ("converted", "converted_at")}
    id_from = [c for c in leads.columns if c not in outcome]
    try:
        mapping = SchemaConfig.model_validate(
            {k: v for k, v in schema.items() if k in ("leads", "label", "outcomes", "order_by")}
            | ({"id_from": id_from} if "lead_id" not in schema["leads"] else {})
        )
    except ValueError:
        return
    if mapping.outcomes is not None and outcomes is not None:
        per_key = outcome_labels(outcomes, mapping)["converted"]
        keys = lead_key(leads, mapping)
        found.label = keys.map(per_key).where(keys.isin(per_key.index), 0.0).astype("float64")
    elif "converted" in mapping.leads:
        found.label = decode_label(leads[mapping.leads["converted"]], mapping.label)
    column = mapping.leads.get("created_at") or mapping.order_by
    if column is not None:
        found.order = leads[column]


def propose_refit(found: Proposal) -> None:
    """Propose ``train.refit`` when the conversion rate moves along the arrival order within the
    earlier 80 % of the sample (never judged on the held-out share): the shipped model should
    then see the latest leads too."""
    if found.label is None or found.order is None or found.label.nunique() != 2:
        return
    key = pd.to_numeric(found.order, errors="coerce")
    rank = (key if key.notna().any() else found.order.astype("str")).rank(pct=True, method="first")
    early = (rank <= 0.8).to_numpy() & found.label.notna().to_numpy()
    tenths = (rank[early] * 10).clip(upper=7.999).astype(int)
    rates = found.label[early].groupby(tenths.to_numpy()).mean()
    if len(rates) >= 4 and rates.max() - rates.min() >= DRIFT:
        found.params["train"] = {"refit": True}
        found.note(
            "train.refit",
            f"conversion drifts along arrival ({rates.min():.2f}-{rates.max():.2f} per tenth): "
            "the shipped model also sees the validation window",
        )


def training_share(found: Proposal) -> pd.Series:
    """The sample's earliest 60 % by arrival (the default training window), labelled rows only:
    what the audit and the fit points learn from, never the leads judged later."""
    if found.label is None:  # nothing to learn from: an empty window over the sample's rows
        rows = found.order.index if found.order is not None else pd.RangeIndex(0)
        return pd.Series(False, index=rows)
    known = found.label.notna()
    if found.order is None:
        return known
    key = pd.to_numeric(found.order, errors="coerce")
    if key.isna().all():
        key = found.order.astype("str")
    rank = key.rank(method="first", pct=True)
    return known & (rank <= 0.6).to_numpy()
