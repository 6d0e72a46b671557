"""The mapping ``leadscore init`` proposes for a new table: a sample of the leads (and of the
event log and outcomes table) in, the ``params.yaml`` sections and a note per guess out.

Nothing here reads or writes a file. Each guess says why it was made and what to check; a date
whose order cannot be told from the sample is not guessed: the note says what to declare, and
``validate`` stops until it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from leadscore.config import EVENT_ROLES
from leadscore.data.leakage import audit_columns
from leadscore.onboarding import roles as r
from leadscore.onboarding.labels import (
    dated,
    label_sample,
    propose_label,
    propose_refit,
    training_share,
)
from leadscore.onboarding.profile import PLACEHOLDERS, ColumnProfile, profile_table

AUDIT_THRESHOLD = 0.85  # as validate.leakage_threshold's default
MISSING_GAP = 0.5  # filled (or missing) for one outcome far more than for the other
MAX_LEVELS = 60  # more distinct texts than this (and than 5 % of rows) is free text, not a category


@dataclass
class Proposal:
    """``params`` holds the proposed sections; ``notes`` a reason per dotted key; ``todo`` what
    the user must settle before the first run."""

    params: dict = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    todo: list[str] = field(default_factory=list)
    fit_columns: dict[str, str] = field(default_factory=dict)  # feature name -> column
    label: pd.Series | None = None  # the sample's decoded label (1/0/NaN), for fit points
    order: pd.Series | None = None  # the sample's arrival key, for the training share
    label_candidates: list[str] = field(default_factory=list)  # no label found: maybe these
    outcome_columns: set[str] = field(default_factory=set)  # never a feature, id part or rule

    def note(self, key: str, why: str) -> None:
        self.notes[key] = why


def propose(
    leads: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    outcome_key: str | None = None,
) -> Proposal:
    """The proposed ``schema`` and stage sections for samples of the tables."""
    found, profiles, used = Proposal(), profile_table(leads), set[str]()
    schema: dict = {"leads": {}}
    found.params["schema"] = schema
    _identity(schema, profiles, used, found)
    _time(schema, profiles, used, found)
    if outcomes is not None and outcome_key is not None:
        _outcomes(schema, leads, outcomes, outcome_key, found)
        _outcome_copies(schema, leads, outcomes, outcome_key, used, found)
    else:
        propose_label(schema, profiles, used, found)
    for role in r.NAMED_ROLES:
        guess = r.named_role(role, profiles, used)
        if guess is not None:
            schema["leads"][role] = guess.value
            used.add(str(guess.value))
            found.note(f"schema.leads.{role}", guess.why)
    label_sample(schema, leads, outcomes, found)
    propose_refit(found)
    suspects = _after_contact(leads, profiles, used, found)
    _declared(schema, profiles, used, suspects, found)
    if "lead_id" not in schema["leads"]:
        _generated_id(schema, profiles, used, suspects, found)
    if events is not None:
        schema["events"] = _events(profile_table(events), schema, found)
    schema["placeholders"] = ["", *PLACEHOLDERS]
    _dates(schema, profiles, found, table="leads")
    return found


def _identity(schema: dict, profiles: dict, used: set[str], found: Proposal) -> None:
    unique = [c for c, p in profiles.items() if p.unique and p.kind != "date"]
    named = [c for c in unique if r.matches(c, r.ID_NAME)]
    if named:
        schema["leads"]["lead_id"] = named[0]
        used.add(named[0])
        found.note("schema.leads.lead_id", "named like an id and unique in the sample")


def _time(schema: dict, profiles: dict, used: set[str], found: Proposal) -> None:
    dates = [c for c, p in profiles.items() if p.kind == "date" and c not in used]
    created = [c for c in dates if r.matches(c, r.CREATED_NAME)] or [
        c for c in dates if not r.matches(c, r.CONVERTED_AT_NAME)
    ]
    if created:
        schema["leads"]["created_at"] = created[0]
        used.add(created[0])
        found.note("schema.leads.created_at", "a date column named like the lead's arrival")
        return
    numbers = [
        c
        for c, p in profiles.items()
        if p.kind == "number" and p.unique and c not in used and r.matches(c, r.ORDER_NAME)
    ]
    months = {c: o for c, p in profiles.items() if c not in used and (o := r.month_order(p))}
    month = next(iter(months), None)
    if numbers:
        schema["order_by"] = numbers[0]
        found.note("schema.order_by", "no date: a unique, sequential-looking number orders leads")
    elif month is not None:
        schema |= {"order_by": month, "order_kind": "values", "order_values": list(months[month])}
        found.note("schema.order_by", "no date: month names order leads (check the year)")
    else:
        found.todo.append(
            "no date or ordering column found: the held-out leads will be a random sample; "
            "set schema.order_by if a column orders leads in time"
        )
        return
    used.add(schema["order_by"])


def _outcome_copies(
    schema: dict,
    leads: pd.DataFrame,
    outcomes: pd.DataFrame,
    key: str,
    used: set[str],
    found: Proposal,
) -> None:
    """Leads' columns the outcomes table has too (a deal's amount or stage copied into the
    export): they tell the outcome, so they are neither features nor id parts."""
    copies = [str(c) for c in leads.columns if c in outcomes.columns and c != key]
    used.update(copies)
    found.outcome_columns.update(copies)
    if copies:
        schema["exclude"] = copies
    for column in copies:
        found.note(f"exclude:{column}", "also a column of the outcomes table: tells the outcome")


def _outcomes(
    schema: dict, leads: pd.DataFrame, outcomes: pd.DataFrame, key: str, found: Proposal
) -> None:
    profiles = profile_table(outcomes)
    cfg: dict = {"key": key}
    lead_id = schema["leads"].get("lead_id")
    shared = set(outcomes[key].dropna().astype("str"))
    overlap = {
        c: leads[c].dropna().astype("str").isin(shared).mean()
        for c in leads.columns
        if leads[c].notna().any()
    }
    best = max(overlap, key=lambda c: overlap[c], default=None)
    if best is not None and best != lead_id:
        cfg["lead_key"] = best
        found.note("schema.outcomes.lead_key", f"the leads' column whose values match {key}")
    status = next(
        (c for c, p in profiles.items() if c != key and r.label_values(p) is not None), None
    )
    if status is not None:
        positive, negative = r.label_values(profiles[status]) or ((), ())
        cfg["status"] = status
        schema["label"] = {"positive": list(positive), "negative": list(negative)}
        found.note("schema.label", "check: any other status value is quarantined")
    converted_at = dated(profiles, {key}, r.CONVERTED_AT_NAME) or dated(profiles, {key}, ".")
    if converted_at is not None:
        cfg["converted_at"] = converted_at
    schema["outcomes"] = cfg
    schema["leads"].pop("converted", None)
    found.note(
        "schema.outcomes",
        "a lead with a row here converted" + (f" when {status} is positive" if status else ""),
    )
    _dates(schema, profiles, found, table="outcomes")


def _after_contact(
    leads: pd.DataFrame, profiles: dict, used: set[str], found: Proposal
) -> list[str]:
    """Columns sales may fill in after contact: named like it, too predictive alone, or filled
    for one outcome only (the leakage audit's statistics on the sample's training share)."""
    candidates = [c for c, p in profiles.items() if c not in used and p.kind != "date"]
    why = {
        c: "named like a field sales fills in"
        for c in candidates
        if r.matches(c, r.AFTER_CONTACT_NAME)
    }
    label = found.label
    if candidates and label is not None and label.nunique() == 2:
        window = training_share(found)
        stats = audit_columns(
            leads.loc[window, candidates], label[window], PLACEHOLDERS, folds=5
        ).set_index("column")
        for column, row in stats.iterrows():
            if row["roc_auc"] >= AUDIT_THRESHOLD:
                why[column] = f"ROC-AUC {row['roc_auc']:.2f} alone on the sample"
            elif abs(row["missing_gap"]) >= MISSING_GAP:
                why[column] = f"missing for {abs(row['missing_gap']):.0%} more of one outcome"
    for column, reason in why.items():
        found.note(f"after_contact:{column}", reason)
    return [c for c in candidates if c in why]


def _declared(
    schema: dict, profiles: dict, used: set[str], suspects: list[str], found: Proposal
) -> None:
    names: set[str] = set()
    kinds: dict[str, dict[str, str]] = {
        k: {} for k in ("form", "categorical", "numeric", "engagement_columns")
    }
    rows = max((p.distinct / max(1 - p.missing, 1e-9) for p in profiles.values()), default=0)
    for column, profile in profiles.items():
        if column in used or profile.kind in ("empty", "date") or profile.unique:
            continue
        kind = _kind(column, profile, rows)
        if kind is None:
            continue
        name = r.feature_name(column, names)
        kinds[kind][name] = column
        if kind in ("form", "categorical") and column not in suspects and profile.distinct <= 12:
            found.fit_columns[name] = column
    schema |= {k: v for k, v in kinds.items() if v}
    if suspects:
        schema["after_contact"] = suspects
    found.note("schema.form", "the web form's drop-downs: a placeholder value or a question")


def _kind(column: str, profile: ColumnProfile, rows: float) -> str | None:
    if profile.kind == "number":
        return "engagement_columns" if r.matches(column, r.ENGAGEMENT_NAME) else "numeric"
    if profile.looks in ("email", "phone", "url", "user_agent"):
        return None  # personal or free text: not a category
    if profile.distinct > max(MAX_LEVELS, 0.05 * rows):
        return None
    if profile.looks == "placeholder" or r.QUESTION.match(r.normalized(column)):
        return "form"
    return "categorical"


def _generated_id(
    schema: dict, profiles: dict, used: set[str], suspects: list[str], found: Proposal
) -> None:
    changing = {*suspects, *schema.get("engagement_columns", {}).values()}
    outcome = {*found.outcome_columns, *found.label_candidates}
    columns = [c for c in profiles if c not in changing | outcome]
    schema["id_from"] = columns
    found.note(
        "schema.id_from",
        "no unique id column: lead ids are hashed from these columns; check that together they "
        "identify a lead and never change after it arrives (rows equal in all of them are one "
        "lead: later copies are quarantined as duplicates)",
    )


def _events(profiles: dict[str, ColumnProfile], schema: dict, found: Proposal) -> dict:
    mapping: dict[str, str] = {}
    for column, profile in profiles.items():
        name = r.normalized(column)
        if "lead_id" not in mapping and ("lead" in name or r.matches(column, r.ID_NAME)):
            mapping["lead_id"] = column
        elif "ts" not in mapping and profile.kind == "date":
            mapping["ts"] = column
        elif "event_type" not in mapping and profile.kind == "text" and profile.distinct <= 50:
            mapping["event_type"] = column
        elif "page" not in mapping and profile.looks == "url":
            mapping["page"] = column
    missing = [role for role in EVENT_ROLES[:3] if role not in mapping]
    if missing:
        found.todo.append(f"map schema.events {missing}: the event log's columns were not found")
    found.note("schema.events", "types outside leadscore's list count as 'other'")
    _dates({"events": mapping} | schema, profiles, found, table="events")
    return mapping


def _dates(schema: dict, profiles: dict[str, ColumnProfile], found: Proposal, table: str) -> None:
    """Declare each used date column that is not ISO-8601; never guess an ambiguous one."""
    if table == "outcomes":
        used = [schema.get("outcomes", {}).get("converted_at")]
    else:
        used = [*schema.get(table, {}).values(), schema.get("order_by")]
    for column in [c for c in used if c in profiles and profiles[c].kind == "date"]:
        profile = profiles[column]
        if profile.reading in ("dayfirst", "monthfirst"):
            schema.setdefault("dates", {}).setdefault("columns", {})[column] = {
                "format": profile.date_format
            }
            found.note(
                f"dates:{column}",
                f"{profile.reading.replace('first', '-first')}: some values read only that way",
            )
        elif profile.reading == "ambiguous":
            found.todo.append(
                f"{table} column '{column}': every sampled date reads both day-first and "
                f"month-first (e.g. {profile.examples[0]!r}); declare schema.dates.columns"
                f"['{column}'].format ('{profile.date_format}' if day-first) before validate"
            )
        if column == schema.get(table, {}).get("created_at") and not profile.has_time:
            found.note("schema.time_of_day", "dates without a time of day: no hour features")
