"""Leakage audit: which columns of a lead table give the outcome away.

CRM exports mix what is known when a lead arrives with what sales writes down after talking to it
("Had a phone conversation", "Will revert after reading the email"). A model trained on the second
kind looks excellent and is useless for scoring new leads. Each column is judged alone on the
training window: its ROC-AUC when it is the only input (text levels and numeric quantile bins
replaced by their conversion rate, learned on other folds so that an id-like column scores 0.5,
not 1.0) and how its missingness differs between converted and other leads.

A column is flagged when its ROC-AUC alone reaches ``validate.leakage_threshold``, or when it is
filled almost only for converted leads: a field sales fills in once the deal is won (contract
value, onboarding date) is missing for nearly every other lead, so its mere presence gives the
outcome away even where its values, present for only some converters, keep its ROC-AUC alone
low. The second rule compares the share of converted leads that have the column filled with
the share of the other leads that have it filled; at ``validate.converter_only_ratio`` (20 by
default) times or more, the column is flagged. Each share counts :data:`FILLED_SMOOTHING` more,
so a column filled for a handful of converters and no one else is not flagged on that alone (at
20, at least 1.9 % of the converters must have it). Honest lead-time fields differ far less:
a form field answered more often by leads that go on to convert is filled a few times as often
for them, not twenty (the ratios measured on the demo and on X Education are on the results
page of the docs). Only filled-for-converters is flagged, not the other directions: a lead
without an e-mail address never converts in the demo, as in life, and is a fair signal; a
column filled only for lost deals (a loss reason) is declared in ``schema.after_contact``. A
flagged, or declared after-contact, column is excluded unless the user keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.config import SchemaConfig, ValidateConfig
from leadscore.data.snapshots import Window, arrival_order, split_leads, split_method
from leadscore.errors import SchemaError
from leadscore.features.cleaning import clean_text

MISSING = "__missing__"
NUMERIC_BINS = 20  # quantile bins of a numeric column: enough to see a non-monotonic signal
SMOOTHING = 20.0  # pseudo-leads at the prior rate: a level seen twice cannot score 0 or 1
NOT_USABLE = "not usable at lead time"
FILLED_SMOOTHING = 0.001  # added to each filled share: a few leads alone cannot flag a column
_TIME_ROLES: tuple[str, ...] = ("created_at", "converted_at")  # moments, not lead attributes


def audit_columns(
    table: pd.DataFrame,
    label: pd.Series,
    placeholders: Iterable[str],
    folds: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per column of ``table``: ROC-AUC alone and missingness against ``label`` (0/1).

    ``table`` holds the training window's rows only, raw as the user exported them.
    """
    y = np.asarray(label, dtype="int64")
    if len(np.unique(y)) < 2:
        raise ValueError("the leakage audit needs converted and non-converted leads")
    fold = np.random.default_rng(seed).permutation(len(y)) % folds
    rows = []
    for column in table.columns:
        levels = discretize(table[column], placeholders)
        missing = (levels == MISSING).to_numpy()
        rows.append(
            {
                "column": column,
                "roc_auc": single_column_auc(levels, y, fold),
                "levels": int(levels[~missing].nunique()),
                "missing_rate": float(missing.mean()),
                "missing_rate_converted": float(missing[y == 1].mean()),
                "missing_rate_not_converted": float(missing[y == 0].mean()),
            }
        )
    audit = pd.DataFrame(rows)
    audit["missing_gap"] = audit["missing_rate_converted"] - audit["missing_rate_not_converted"]
    audit["filled_ratio"] = filled_ratio(
        audit["missing_rate_converted"], audit["missing_rate_not_converted"]
    )
    return audit


def filled_ratio(missing_converted: pd.Series, missing_not_converted: pd.Series) -> pd.Series:
    """How many times as often a column is filled for converted leads as for the others, each
    share plus :data:`FILLED_SMOOTHING`; about 1 for most columns, large for one that is filled
    only after a deal."""
    filled = (1 - missing_converted + FILLED_SMOOTHING) / (
        1 - missing_not_converted + FILLED_SMOOTHING
    )
    return filled.astype("float64")


def discretize(values: pd.Series, placeholders: Iterable[str]) -> pd.Series:
    """Levels a conversion rate can be learned for: cleaned text, or quantile bins of a number
    (also when a CSV delivered the numbers as text); missing and placeholders are one level."""
    text = pd.Series(clean_text(values.to_numpy(), placeholders), index=values.index, dtype="str")
    number = pd.to_numeric(text, errors="coerce")
    if text.notna().any() and number[text.notna()].notna().all():
        bins = pd.qcut(number, NUMERIC_BINS, duplicates="drop")
        return bins.astype("str").where(number.notna(), MISSING).astype("str")
    return text.fillna(MISSING).astype("str")


def single_column_auc(levels: pd.Series, y: np.ndarray, fold: np.ndarray) -> float:
    """ROC-AUC of the out-of-fold, smoothed conversion rate of each level."""
    codes, uniques = pd.factorize(levels)
    if len(uniques) < 2:  # a constant says nothing (out-of-fold noise would read below 0.5)
        return 0.5
    score = np.empty(len(y))
    for k in np.unique(fold):
        fit = fold != k
        prior = y[fit].mean()
        positives = np.bincount(codes[fit], weights=y[fit], minlength=codes.max() + 1)
        counts = np.bincount(codes[fit], minlength=codes.max() + 1)
        rate = (positives + SMOOTHING * prior) / (counts + SMOOTHING)
        score[~fit] = rate[codes[~fit]]
    return float(roc_auc_score(y, score))


def decide_exclusions(
    audit: pd.DataFrame,
    threshold: float,
    after_contact: Iterable[str],
    exclude: Iterable[str],
    keep: Iterable[str],
    *,
    converter_only_ratio: float,
) -> pd.DataFrame:
    """Add ``converter_only``, ``flagged``, ``after_contact``, ``excluded`` and a plain-words
    ``reason`` per column.

    A column is flagged by its ROC-AUC alone (``threshold``) or as filled only for converted
    leads (``filled_ratio`` at ``converter_only_ratio`` or more). A declared exclusion always
    holds; a flagged column, or one declared as recorded after contact, is excluded unless it is
    in ``keep``.
    """
    after_contact, exclude, keep = set(after_contact), set(exclude), set(keep)
    out = audit.copy()
    out["converter_only"] = out["filled_ratio"] >= converter_only_ratio
    out["flagged"] = (out["roc_auc"] >= threshold) | out["converter_only"]
    out["after_contact"] = out["column"].isin(after_contact)
    suspect = out["flagged"] | out["after_contact"]
    out["kept"] = suspect & out["column"].isin(keep)
    out["excluded"] = out["column"].isin(exclude) | (suspect & ~out["kept"])
    out["reason"] = [
        _reason(row, threshold, converter_only_ratio, declared=row.column in exclude)
        for row in out.itertuples(index=False)
    ]
    return out


def _reason(row, threshold: float, ratio: float, *, declared: bool) -> str:
    why = []
    if declared:
        why.append("declared in schema.exclude")
    if row.after_contact:
        why.append("recorded by sales after contact (schema.after_contact)")
    if row.roc_auc >= threshold:
        why.append(f"ROC-AUC alone {row.roc_auc:.3f} >= validate.leakage_threshold {threshold}")
    if row.converter_only:
        why.append(
            f"filled for {100 * (1 - row.missing_rate_converted):.1f} % of converted leads but "
            f"only {100 * (1 - row.missing_rate_not_converted):.1f} % of the others, as if "
            f"filled in after a deal ({row.filled_ratio:.0f} times as often >= "
            f"validate.converter_only_ratio {ratio:g})"
        )
    if row.kept:
        return "kept by validate.keep although " + "; ".join(why)
    return "; ".join(why)


def audit_table(
    raw: pd.DataFrame,
    valid_leads: pd.DataFrame,
    *,
    schema: SchemaConfig,
    cfg: ValidateConfig,
    held_out_fractions: tuple[Window, Window],
) -> dict:
    """The leakage audit of a raw leads table, as the report and ``featurize`` read it.

    ``valid_leads`` are the validated canonical leads; the audit looks only at those in the
    training window (the split ``featurize`` will make, by ``held_out_fractions`` = valid and
    test shares), so nothing is learned from the leads the model is judged on.
    """
    _check_named(raw, schema, cfg)
    split = split_leads(arrival_order(valid_leads), *held_out_fractions)
    id_column = schema.leads["lead_id"]
    window = raw[raw[id_column].astype("str").isin(split.index[split == "train"])]
    window = window.drop_duplicates(id_column)
    label = schema.leads.get("converted", "converted")
    not_audited = {id_column, label, schema.order_by, *(schema.leads.get(r) for r in _TIME_ROLES)}
    audited = [c for c in raw.columns if c not in not_audited]
    audit = audit_columns(
        window[audited], pd.to_numeric(window[label]), schema.placeholders, cfg.audit_folds
    )
    decided = decide_exclusions(
        audit,
        cfg.leakage_threshold,
        schema.after_contact,
        schema.exclude,
        cfg.keep,
        converter_only_ratio=cfg.converter_only_ratio,
    )
    roles = schema.roles_by_column()
    decided["feature"] = decided["column"].map(roles)
    decided = decided.sort_values("roc_auc", ascending=False, kind="stable")
    return {
        "threshold": cfg.leakage_threshold,
        "converter_only_ratio": cfg.converter_only_ratio,
        "window": {
            "leads": len(window),
            "conversion_rate": float(pd.to_numeric(window[label]).mean()),
            "split": split_method(valid_leads, schema.order_by),
        },
        "excluded": decided.loc[decided["excluded"], "column"].tolist(),
        "flagged": decided.loc[decided["flagged"], "column"].tolist(),
        "kept": decided.loc[decided["kept"], "column"].tolist(),
        "not_mapped": decided.loc[decided["feature"].isna(), "column"].tolist(),
        "columns": decided.astype({"feature": "object"}).replace({np.nan: None}).to_dict("records"),
    }


def _check_named(raw: pd.DataFrame, schema: SchemaConfig, cfg: ValidateConfig) -> None:
    for key, names in (
        ("schema.after_contact", schema.after_contact),
        ("schema.exclude", schema.exclude),
        ("validate.keep", cfg.keep),
    ):
        unknown = [n for n in names if n not in raw.columns]
        if unknown:
            raise SchemaError(
                f"{key} names column(s) {unknown} that the leads table does not have; "
                f"columns found: {list(raw.columns)}"
            )
