"""The pipeline's verbs: one per ``dvc.yaml`` stage, each calling its module in
:mod:`leadscore.stages` with its ``params.yaml`` section and the paths ``dvc.yaml`` gives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.cli.app import DEFAULT_PARAMS, OptPath, ParamsOpt, verb
from leadscore.config import load_params
from leadscore.errors import ConfigError

RUN_FILE = Path("data/model/run.json")  # the MLflow run of this training, started by train
BUNDLE = Path("data/model")
# the validation window's out-of-sample model probabilities: written by train, read by calibrate
VALID_PREDICTIONS = Path("data/processed/valid_predictions.parquet")
FEATURES = Path("data/processed/features.parquet")
LEADS = Path("data/interim/leads.parquet")  # validate's valid leads
METRICS = Path("reports/metrics.json")
AUDIT = Path("reports/leakage_audit.json")


@verb
def generate(
    out_dir: Path = Path("data/raw"),
    leads: Annotated[int | None, typer.Option(min=1, help="Override generate.n_leads.")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Write synthetic demo leads, events and the generator's true probabilities."""
    from leadscore.stages import generate as stage

    cfg = load_params(params).generate
    if cfg is None:
        raise ConfigError(f"{params} has no generate section: generate makes the demo's data")
    cfg = cfg if leads is None else cfg.model_copy(update={"n_leads": leads})
    return stage.run(cfg, out_dir=out_dir)


@verb
def extract(
    leads: Annotated[str, typer.Option(help="URI of the lead table (as for score).")],
    events: Annotated[str | None, typer.Option(help="URI of the event log.")] = None,
    outcomes: Annotated[str | None, typer.Option(help="URI of the outcomes table.")] = None,
    out_dir: Path = Path("data/raw"),
    metrics: Path = Path("reports/extract.json"),
    chunk_size: Annotated[int, typer.Option(min=1, help="Rows read at a time.")] = 100_000,
) -> dict:
    """Snapshot the source tables into Parquet under data/raw, with rows and fingerprints."""
    from leadscore.stages import extract as stage

    given = {"leads": leads, "events": events, "outcomes": outcomes}
    sources = {name: uri for name, uri in given.items() if uri is not None}
    return stage.run(sources, out_dir=out_dir, metrics_path=metrics, chunk_size=chunk_size)


@verb
def validate(
    leads: Path,
    events: OptPath = None,
    outcomes: OptPath = None,
    out_dir: Path = Path("data/interim"),
    summary: Path = Path("reports/validation.json"),
    audit: Path = AUDIT,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Split the raw tables into valid rows and a quarantine; audit the columns for leakage."""
    from leadscore.stages import validate as stage

    p = load_params(params)
    return stage.run(
        p.schema_,
        p.validate_,
        p.featurize,
        leads_path=leads,
        events_path=events,
        outcomes_path=outcomes,
        out_dir=out_dir,
        summary_path=summary,
        audit_path=audit,
    )


@verb
def featurize(
    leads: Path,
    events: OptPath = None,
    audit: Path = AUDIT,
    out: Path = FEATURES,
    excluded: Path = Path("data/processed/excluded_features.parquet"),
    bundle: Path = BUNDLE,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Build point-in-time snapshots with features, labels and the out-of-time split."""
    from leadscore.stages import featurize as stage

    p = load_params(params)
    return stage.run(
        p.schema_,
        p.featurize,
        leads_path=leads,
        events_path=events,
        audit_path=audit,
        out_path=out,
        excluded_path=excluded,
        bundle_dir=bundle,
    )


@verb
def train(
    features: Path = FEATURES,
    bundle: Path = BUNDLE,
    valid_predictions: Path = VALID_PREDICTIONS,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Train the LightGBM conversion model; starts the MLflow run."""
    from leadscore.stages import train as stage

    return stage.run(
        load_params(params).train,
        features_path=features,
        bundle_dir=bundle,
        run_file=RUN_FILE,
        valid_predictions=valid_predictions,
    )


@verb
def calibrate(
    features: Path = FEATURES,
    bundle: Path = BUNDLE,
    valid_predictions: Path = VALID_PREDICTIONS,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Blend with the fit score, calibrate and choose the band thresholds."""
    from leadscore.stages import calibrate as stage

    return stage.run(
        load_params(params).calibrate,
        features_path=features,
        bundle_dir=bundle,
        run_file=RUN_FILE,
        valid_predictions=valid_predictions,
    )


@verb
def evaluate(
    features: Path = FEATURES,
    bundle: Path = BUNDLE,
    truth: OptPath = None,
    metrics: Path = METRICS,
    plots: Path = Path("reports/plots"),
    scores: Path = Path("data/processed/test_scores.parquet"),
    excluded: Path = Path("data/processed/excluded_features.parquet"),
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Held-out metrics on the latest leads, with baselines and the best achievable."""
    from leadscore.stages import evaluate as stage

    p = load_params(params)
    return stage.run(
        p.evaluate,
        train_cfg=p.train,
        policy=p.calibrate.thresholds,
        features_path=features,
        bundle_dir=bundle,
        run_file=RUN_FILE,
        truth_path=truth,
        metrics_path=metrics,
        plots_dir=plots,
        scores_path=scores,
        excluded_path=excluded,
    )


@verb
def report(
    metrics: Path = METRICS,
    scores: Path = Path("data/processed/test_scores.parquet"),
    features: Path = FEATURES,
    plots: Path = Path("reports/plots"),
    bundle: Path = BUNDLE,
    out_dir: Path = Path("reports"),
    audit: Path = AUDIT,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Render the self-contained HTML model report and its CSV companions."""
    from leadscore.stages import report as stage

    p = load_params(params)
    return stage.run(
        p.report,
        policy=p.calibrate.thresholds,
        metrics_path=metrics,
        scores_path=scores,
        features_path=features,
        plots_dir=plots,
        bundle_dir=bundle,
        run_file=RUN_FILE,
        out_dir=out_dir,
        audit_path=audit,
    )


@verb
def export(
    bundle: Path = BUNDLE,
    features: Path = FEATURES,
    leads: Annotated[Path, typer.Option(help="Valid leads: the input example's lead.")] = LEADS,
    events: Annotated[Path | None, typer.Option(help="Their event log, if any.")] = None,
    metrics: Path = METRICS,
    out: Path = Path("models/lead_scorer"),
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Write the MLflow pyfunc artifact and register it in the MLflow model registry."""
    from leadscore.stages import export as stage

    p = load_params(params)
    return stage.run(
        p.export,
        p,
        bundle_dir=bundle,
        features_path=features,
        leads_path=leads,
        events_path=events,
        metrics_path=metrics,
        run_file=RUN_FILE,
        out_dir=out,
    )


@verb
def summary(metrics: Path = METRICS, model: Path = Path("models/lead_scorer")) -> dict:
    """Where the pipeline put the model, the MLflow run and the reports."""
    from leadscore.data.files import read_json
    from leadscore.tracking import shown_tracking_uri

    run = read_json(RUN_FILE)
    held_out = read_json(metrics)
    uri = shown_tracking_uri()
    return {
        "model": str(model),
        "mlflow": f"run {run['run_id']} in {uri} (see it with: mlflow ui "
        f"--backend-store-uri {uri})",
        "reports": sorted(str(p) for p in Path("reports").glob("*.html")),
        "held_out_roc_auc": round(held_out["roc_auc"], 4),
        # only synthetic data knows the best achievable; elsewhere it is null, not NaN (not JSON)
        "best_achievable_roc_auc": (
            round(held_out["bayes_roc_auc"], 4) if "bayes_roc_auc" in held_out else None
        ),
    }
