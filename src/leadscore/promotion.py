"""Promotion: the candidate model takes the champion alias only if it is better where it counts.

The candidate is, unless named, the model the workspace holds (``models/lead_scorer``, as
``dvc repro``, ``dvc exp apply`` or ``dvc pull`` left it): the registered version its export
logged, found by the MLflow run it came from. The export alias is only the last export, which
after a few experiments need not be what the workspace holds.

Both models score the *same* held-out window (the current test split), each through its own
feature settings, so the comparison does not favour the model whose features are on disk. The
decision and its reason are recorded as tags on the candidate's registered version.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from leadscore.config import ExportConfig, PromoteConfig
from leadscore.data.files import read_json, read_table
from leadscore.errors import ConfigError, InputError, PromotionRefused
from leadscore.features import build_features
from leadscore.modeling.metrics import classification_metrics
from leadscore.scoring.artifact import bundle_path, load_scorer
from leadscore.scoring.bundle import METADATA_FILE
from leadscore.scoring.registry import PREFIX, model_source, registered_version, registry_client
from leadscore.tracking import shown_tracking_uri

LOWER_IS_BETTER = frozenset({"log_loss", "brier"})


def promote(
    export: ExportConfig,
    cfg: PromoteConfig,
    *,
    candidate: str | None = None,
    artifact: Path = Path("models/lead_scorer"),
    features_path: Path,
    leads_path: Path,
    events_path: Path | None,
    force: bool = False,
) -> dict:
    """Give ``candidate`` (a registry URI; default the version of the workspace's ``artifact``)
    the champion alias if it beats the champion; the held-out window is read from the
    pipeline's files, its events from ``events_path`` (None: the pipeline has no event log)."""
    if candidate is None:
        name, version = workspace_version(artifact, export.registered_model_name)
    else:
        name, version = registered_version(candidate)
    client = MlflowClient()
    champion = _version(client, name, cfg.champion_alias)
    theirs_version = None if champion is None else str(champion.version)
    summary: dict[str, object] = {"model": name, "candidate": version, "metric": cfg.metric}
    if theirs_version == version:
        return {**summary, "promoted": False, "reason": "the candidate is already champion"}
    if theirs_version is None:
        reason = "no champion yet"
    else:
        window = _held_out_window(features_path, leads_path, events_path)
        theirs = _score(name, theirs_version, window, cfg.metric)
        ours = _score(name, version, window, cfg.metric)
        gain = theirs - ours if cfg.metric in LOWER_IS_BETTER else ours - theirs
        summary |= {
            "champion": theirs_version,
            "candidate_value": ours,
            "champion_value": theirs,
            "improvement": gain,
            "margin": cfg.margin,
        }
        reason = (
            f"{cfg.metric} {ours:.4f} vs champion v{theirs_version} {theirs:.4f} "
            f"(improvement {gain:+.4f}, margin {cfg.margin})"
        )
        if gain < cfg.margin and not force:
            _record(client, name, version, "refused", reason)
            raise PromotionRefused(f"candidate v{version} not promoted: {reason}")
        if gain < cfg.margin:
            reason = "forced: " + reason
    client.set_registered_model_alias(name, cfg.champion_alias, version)
    _record(client, name, version, "promoted", reason)
    return {**summary, "promoted": True, "reason": reason}


def workspace_version(artifact: Path, name: str) -> tuple[str, str]:
    """The registered version of ``name`` that the exported ``artifact`` is: the one its export
    logged from the same MLflow run (the latest, if that run was exported more than once)."""
    if not (artifact / "MLmodel").exists():
        raise InputError(f"{artifact}: no exported model here; run `dvc repro` or give --model")
    run_id = read_json(bundle_path(artifact) / METADATA_FILE)["mlflow_run_id"]
    found = registry_client().search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if not found:
        raise ConfigError(
            f"{artifact}: its model (MLflow run {run_id}) is not registered as '{name}' in "
            f"{shown_tracking_uri()}; export it (`dvc repro`) or name a version with --model"
        )
    return name, str(max(int(v.version) for v in found))


def _version(client: MlflowClient, name: str, alias: str):
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _held_out_window(
    features_path: Path, leads_path: Path, events_path: Path | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    if events_path is not None and not events_path.exists():
        raise InputError(f"{events_path}: no such file (without an event log: --no-events)")
    features = read_table(features_path)
    test = features.loc[features["split"] == "test", ["lead_id", "as_of", "label"]]
    events = read_table(events_path) if events_path is not None else None
    return test.reset_index(drop=True), read_table(leads_path), events


def _score(name: str, version: str, window, metric: str) -> float:
    """The version's metric on the window, its features rebuilt with its own settings."""
    test, leads, events = window
    with model_source(f"{PREFIX}{name}/{version}") as source:
        scorer = load_scorer(source.path)
    snapshots = test[["lead_id", "as_of"]]
    features = build_features(snapshots, leads, events, scorer.featurize_cfg, scorer.schema)
    unread = sorted(set(scorer.encoder.feature_names_in_) - set(features.columns))
    if unread and events is None:
        raise ConfigError(
            f"version {version} of '{name}' reads features of an event log ({unread[0]}, ...): "
            "give the pipeline's log with --events"
        )
    probability = scorer.score(features, explain_bands=())["probability"]
    return classification_metrics(test["label"].to_numpy(), probability)[metric]


def _record(client: MlflowClient, name: str, version: str, decision: str, reason: str) -> None:
    client.set_model_version_tag(name, version, "promotion", decision)
    client.set_model_version_tag(name, version, "promotion_reason", reason)
