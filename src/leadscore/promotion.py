"""Promotion: the candidate model takes the champion alias only if it is better where it counts.

Both models score the *same* held-out window (the current test split), each through its own
feature settings, so the comparison does not favour the model whose features are on disk. The
decision and its reason are recorded as tags on the candidate's registered version.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from leadscore.config import ExportConfig, PromoteConfig
from leadscore.data.files import read_table
from leadscore.errors import ConfigError, PromotionRefused
from leadscore.features import build_features
from leadscore.modeling.metrics import classification_metrics
from leadscore.scoring.artifact import load_scorer
from leadscore.tracking import tracking_uri

LOWER_IS_BETTER = frozenset({"log_loss", "brier"})


def promote(
    export: ExportConfig,
    cfg: PromoteConfig,
    *,
    features_path: Path,
    leads_path: Path,
    events_path: Path | None,
    force: bool = False,
) -> dict:
    mlflow.set_tracking_uri(tracking_uri())
    client = MlflowClient()
    name = export.registered_model_name
    candidate = _version(client, name, export.alias)
    if candidate is None:
        raise ConfigError(f"no model version of '{name}' has the alias '{export.alias}'")
    champion = _version(client, name, cfg.champion_alias)
    summary = {"model": name, "candidate": candidate.version, "metric": cfg.metric}
    if champion is not None and champion.version == candidate.version:
        return {**summary, "promoted": False, "reason": "the candidate is already champion"}
    if champion is None:
        reason = "no champion yet"
    else:
        window = _held_out_window(features_path, leads_path, events_path)
        theirs = _score(client, name, champion.version, window, cfg.metric)
        ours = _score(client, name, candidate.version, window, cfg.metric)
        gain = theirs - ours if cfg.metric in LOWER_IS_BETTER else ours - theirs
        summary |= {
            "champion": champion.version,
            "candidate_value": ours,
            "champion_value": theirs,
            "improvement": gain,
            "margin": cfg.margin,
        }
        reason = (
            f"{cfg.metric} {ours:.4f} vs champion v{champion.version} {theirs:.4f} "
            f"(improvement {gain:+.4f}, margin {cfg.margin})"
        )
        if gain < cfg.margin and not force:
            _record(client, name, candidate.version, "refused", reason)
            raise PromotionRefused(f"candidate v{candidate.version} not promoted: {reason}")
        if gain < cfg.margin:
            reason = "forced: " + reason
    client.set_registered_model_alias(name, cfg.champion_alias, candidate.version)
    _record(client, name, candidate.version, "promoted", reason)
    return {**summary, "promoted": True, "reason": reason}


def _version(client: MlflowClient, name: str, alias: str):
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _held_out_window(
    features_path: Path, leads_path: Path, events_path: Path | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    features = read_table(features_path)
    test = features.loc[features["split"] == "test", ["lead_id", "as_of", "label"]]
    events = read_table(events_path) if events_path is not None else None
    return test.reset_index(drop=True), read_table(leads_path), events


def _score(client: MlflowClient, name: str, version: str, window, metric: str) -> float:
    """The version's metric on the window, its features rebuilt with its own settings."""
    test, leads, events = window
    path = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}")
    scorer = load_scorer(path)
    snapshots = test[["lead_id", "as_of"]]
    features = build_features(snapshots, leads, events, scorer.featurize_cfg, scorer.schema)
    probability = scorer.score(features, explain_bands=())["probability"]
    return classification_metrics(test["label"].to_numpy(), probability)[metric]


def _record(client: MlflowClient, name: str, version: str, decision: str, reason: str) -> None:
    client.set_model_version_tag(name, version, "promotion", decision)
    client.set_model_version_tag(name, version, "promotion_reason", reason)
