"""Which signals drive the score: TreeSHAP contributions and held-out permutation importance.

Both are measured on the product's own scale, the blend's log-odds (calibration after it is
monotone, so it changes no ranking): a feature's contribution is the model weight times its
TreeSHAP value, and the fit score counts as one more signal worth its blend term. Features are
grouped as the per-lead reasons group them (by raw input, see the feature catalog) and by family,
so the report and the reasons a sales rep reads name the same signals.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.config import SchemaConfig
from leadscore.features import FAMILIES, describe_feature
from leadscore.modeling.booster import probabilities, shap_values
from leadscore.modeling.fit_score import apply_fit_rules
from leadscore.scoring.scorer import Scorer

FIT = "fit"  # the fit score: its own family and signal, next to the catalog's families
FIT_DESCRIPTION = "Fit score from the marketer's rules"
LEVELS: tuple[str, ...] = ("family", "signal", "feature")


def measure_importance(
    scorer: Scorer,
    features: pd.DataFrame,
    top_signals: int,
    shap_rows: int = 5000,
    permutation_rows: int = 2000,
    repeats: int = 3,
    seed: int = 0,
    *,
    leave_out: Collection[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both measures on seeded samples of held-out rows, bounded so the report stays quick:
    the importance table (permutation for every family and the ``top_signals`` strongest
    signals) and the contributions of the sampled rows, indexed like ``features``.

    Features in ``leave_out`` (:func:`constant_features`) are in neither: a feature with one
    value drives nothing, and listed among the drivers it would mislead.
    """
    sampled = _sample(features, shap_rows, seed)
    contrib = contributions(scorer, sampled).drop(columns=list(leave_out), errors="ignore")
    shap = shap_importance(contrib, scorer.schema)
    signals = shap[shap["level"] == "signal"].nlargest(top_signals, "mean_abs_contribution")
    sample = _sample(features, permutation_rows, seed)
    permutation = permutation_importance(
        scorer,
        sample,
        sample["label"].to_numpy(),
        signals["name"].tolist(),
        repeats,
        seed,
        leave_out=leave_out,
    )
    return importance_table(shap, permutation, scorer.schema), contrib


def constant_features(features: pd.DataFrame, columns: Collection[str]) -> list[str]:
    """Those of the model's feature ``columns`` that take a single value (missing counts as
    one) in the training window or in the held-out window of a featurized table: the model
    cannot have learned from the first, and the second shows no effect (e.g. the hour of a
    date-only timestamp, always 0)."""
    windows = [features[features["split"] == s] for s in ("train", "test")]
    return [c for c in columns if any(w[c].nunique(dropna=False) <= 1 for w in windows if len(w))]


def _sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    return frame.sample(rows, random_state=seed) if len(frame) > rows else frame


def feature_groups(columns: list[str], schema: SchemaConfig | None = None) -> pd.DataFrame:
    """Signal (raw input) and family of each model feature, plus the fit score's own row;
    ``schema`` places the columns a user declared (see :func:`describe_feature`)."""
    infos = [describe_feature(c, schema) for c in columns]
    rows = [(c, i.source, i.family) for c, i in zip(columns, infos, strict=True)]
    rows.append((FIT, FIT, FIT))
    return pd.DataFrame(rows, columns=["feature", "signal", "family"])


def contributions(scorer: Scorer, features: pd.DataFrame) -> pd.DataFrame:
    """Per row and feature, the signed contribution to the blend's log-odds (column ``fit``
    for the fit score, centred on the rows' mean as TreeSHAP values are); the fit score's
    only, without a model (cold start)."""
    frame = pd.DataFrame(index=features.index)
    if scorer.booster is not None:
        encoded = scorer.encoder.transform(features)
        shap = shap_values(scorer.booster, encoded)
        frame = pd.DataFrame(
            scorer.blend.model_weight * shap, columns=list(encoded.columns), index=features.index
        )
    fit = apply_fit_rules(features, scorer.fit_rules)["fit_score"]
    fit_term = scorer.blend.logit(np.full(len(features), 0.5), fit)  # its part of the sum
    frame[FIT] = fit_term - fit_term.mean()
    return frame


def group_contributions(
    contrib: pd.DataFrame, level: str, schema: SchemaConfig | None = None
) -> pd.DataFrame:
    """Contributions summed within each signal or family (a lead's reason is such a sum)."""
    if level == "feature":
        return contrib
    columns = [c for c in contrib.columns if c != FIT]
    key = feature_groups(columns, schema).set_index("feature")[level]
    return contrib.T.groupby(key.reindex(contrib.columns).to_numpy(), sort=False).sum().T


def shap_importance(contrib: pd.DataFrame, schema: SchemaConfig | None = None) -> pd.DataFrame:
    """Mean absolute contribution and its share at each level (family, signal, feature)."""
    tables = []
    for level in LEVELS:
        mean_abs = group_contributions(contrib, level, schema).abs().mean()
        tables.append(
            pd.DataFrame(
                {
                    "level": level,
                    "name": mean_abs.index.astype(str),
                    "mean_abs_contribution": mean_abs.to_numpy(),
                    "share": (mean_abs / max(mean_abs.sum(), 1e-12)).to_numpy(),
                }
            )
        )
    return pd.concat(tables, ignore_index=True)


def permutation_importance(
    scorer: Scorer,
    features: pd.DataFrame,
    labels: np.ndarray,
    signals: list[str] | None = None,
    repeats: int = 3,
    seed: int = 0,
    *,
    leave_out: Collection[str] = (),
) -> pd.DataFrame:
    """Held-out drop in ROC-AUC of the product's probability when a family's or signal's
    features are shuffled together (every family; the given signals, or all).

    Shuffling all of a raw input's features at once (not one derived column at a time) avoids
    the understatement that correlated siblings cause. A shuffled field that a fit rule reads
    moves the fit score too, as it would in real use; the fit signal shuffles the fit score.
    Columns are shuffled after encoding (encoding is row by row, so the result is the same) and
    the fit score is recomputed only when a rule reads a shuffled field: each repeat costs one
    model prediction.
    """
    rows = features.reset_index(drop=True)
    encoded = scorer.encoder.transform(rows)
    model_p = _model_probability(scorer, encoded)
    fit = apply_fit_rules(rows, scorer.fit_rules)["fit_score"]
    base = roc_auc_score(labels, _probability(scorer, model_p, fit))
    rule_fields = {r.field for r in scorer.fit_rules.rules}
    used = [c for c in encoded.columns if c not in leave_out and scorer.booster is not None]
    groups = feature_groups(used, scorer.schema)
    rng = np.random.default_rng(seed)
    records = []
    for level in LEVELS[:2]:
        for name, members in groups.groupby(level, sort=False)["feature"]:
            if level == "signal" and signals is not None and name not in signals:
                continue
            columns = [c for c in members if c != FIT]
            drops = []
            for _ in range(repeats):
                order = rng.permutation(len(rows))
                shuffled = _shuffle(encoded, columns, order) if columns else None
                p_model = model_p if shuffled is None else _model_probability(scorer, shuffled)
                f = fit[order] if FIT in set(members) else fit
                if rule_fields & set(columns):
                    f = apply_fit_rules(_shuffle(rows, columns, order), scorer.fit_rules)[
                        "fit_score"
                    ]
                drops.append(base - roc_auc_score(labels, _probability(scorer, p_model, f)))
            records.append((level, name, float(np.mean(drops)), float(np.std(drops))))
    columns = ["level", "name", "permutation_auc_drop", "permutation_auc_drop_std"]
    return pd.DataFrame(records, columns=columns)


def _model_probability(scorer: Scorer, encoded: pd.DataFrame) -> np.ndarray | None:
    """The model's probabilities of encoded rows; None without a model (cold start)."""
    return None if scorer.booster is None else probabilities(scorer.booster, encoded)


def _probability(scorer: Scorer, model_p: np.ndarray | None, fit: np.ndarray) -> np.ndarray:
    """The scorer's probability from its two inputs, as ``Scorer.score`` composes it."""
    return scorer.calibrator.predict(scorer.blend.logit(model_p, np.asarray(fit, dtype=float)))


def _shuffle(frame: pd.DataFrame, columns: list[str], order: np.ndarray) -> pd.DataFrame:
    shuffled = frame.copy()
    for column in columns:
        shuffled[column] = frame[column].iloc[order].reset_index(drop=True)
    return shuffled


def importance_table(
    shap: pd.DataFrame, permutation: pd.DataFrame, schema: SchemaConfig | None = None
) -> pd.DataFrame:
    """Both measures side by side, with a marketer's words for every row, most important first."""
    table = shap.merge(permutation, on=["level", "name"], how="left")
    labels = _labels(table, schema)
    keys = list(zip(table["level"], table["name"], strict=True))
    table["description"] = [labels[k][0] for k in keys]
    table["family"] = [labels[k][1] for k in keys]
    order = table["level"].map({level: i for i, level in enumerate(LEVELS)})
    table = table.assign(_order=order).sort_values(
        ["_order", "mean_abs_contribution"], ascending=[True, False], kind="stable"
    )
    return table.drop(columns="_order").reset_index(drop=True)


def _labels(
    shap: pd.DataFrame, schema: SchemaConfig | None
) -> dict[tuple[str, str], tuple[str, str]]:
    """(level, name) -> (description, family). A signal is described by the words of its three
    most important features, and belongs to each of its features' families (the arrival moment
    feeds both weekday and time)."""
    ranked = shap[shap["level"] == "feature"].sort_values("mean_abs_contribution", ascending=False)
    groups = feature_groups([f for f in ranked["name"] if f != FIT], schema)
    groups["description"] = [
        FIT_DESCRIPTION if f == FIT else describe_feature(f, schema).description
        for f in groups["feature"]
    ]
    labels = {("family", f): (f, f) for f in (*FAMILIES, FIT)}
    for row in groups.itertuples():
        labels["feature", row.feature] = (row.description, row.family)
    for signal, members in groups.groupby("signal", sort=False):
        labels["signal", signal] = (
            "; ".join(members["description"].head(3)),
            ", ".join(dict.fromkeys(members["family"])),
        )
    return labels
