"""The ``leadscore`` command: one verb per pipeline stage, plus batch scoring.

Parameters come from ``params.yaml`` (loaded once, here); paths come from the command line, as
``dvc.yaml`` writes them. Errors a user can act on print one clear line and exit with the code
of their kind (see :mod:`leadscore.errors`).
"""

from __future__ import annotations

import enum
import functools
import gc
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from leadscore.config import load_params
from leadscore.errors import ConfigError, LeadscoreError

app = typer.Typer(
    help="Predictive lead scoring: train, evaluate and score leads.",
    no_args_is_help=True,
    add_completion=False,
)
log = logging.getLogger("leadscore")

ParamsOpt = Annotated[Path, typer.Option("--params", help="Parameter file.")]
OptPath = Annotated[Path | None, typer.Option()]
DEFAULT_PARAMS = Path("params.yaml")
TABLE_URI_HELP = (
    "a .parquet or .csv file, duckdb:///file.duckdb#table, or a SQLAlchemy URL with #table "
    "(e.g. postgresql+psycopg://user@host/db#leads)."
)
RUN_FILE = Path("data/model/run.json")
BUNDLE = Path("data/model")
# the validation window's out-of-sample model probabilities: written by train, read by calibrate
VALID_PREDICTIONS = Path("data/processed/valid_predictions.parquet")


class Engine(enum.StrEnum):
    """Where ``leadscore score`` runs."""

    local = "local"
    dask = "dask"


def _verb(func: Callable[..., dict]) -> Callable[..., None]:
    """Run a verb: print its summary as JSON, or its error as one line with its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s leadscore %(message)s")
        started = time.perf_counter()
        log.info("%s: started", func.__name__)
        try:
            summary = func(*args, **kwargs)
        except LeadscoreError as exc:
            typer.echo(f"leadscore {func.__name__}: error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from exc
        log.info("%s: done in %.1f s", func.__name__, time.perf_counter() - started)
        typer.echo(json.dumps(summary, indent=2, default=str))

    return app.command(name=func.__name__)(wrapper)


@_verb
def generate(
    out_dir: Path = Path("data/raw"),
    leads: Annotated[int | None, typer.Option(min=1, help="Override generate.n_leads.")] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Write synthetic demo leads, events and the generator's true probabilities."""
    from leadscore.stages import generate as stage

    cfg = load_params(params).generate
    return stage.run(cfg if leads is None else cfg.model_copy(update={"n_leads": leads}), out_dir)


@_verb
def validate(
    leads: Path,
    events: OptPath = None,
    out_dir: Path = Path("data/interim"),
    summary: Path = Path("reports/validation.json"),
    audit: Path = Path("reports/leakage_audit.json"),
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Split the raw tables into valid rows and a quarantine; audit the columns for leakage."""
    from leadscore.stages import validate as stage

    p = load_params(params)
    return stage.run(p.schema_, p.validate_, p.featurize, leads, events, out_dir, summary, audit)


@_verb
def featurize(
    leads: Path,
    events: OptPath = None,
    audit: Path = Path("reports/leakage_audit.json"),
    out: Path = Path("data/processed/features.parquet"),
    excluded: Path = Path("data/processed/excluded_features.parquet"),
    bundle: Path = BUNDLE,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Build point-in-time snapshots with features, labels and the out-of-time split."""
    from leadscore.stages import featurize as stage

    p = load_params(params)
    return stage.run(p.schema_, p.featurize, leads, events, audit, out, excluded, bundle)


@_verb
def train(
    features: Path = Path("data/processed/features.parquet"),
    bundle: Path = BUNDLE,
    valid_predictions: Path = VALID_PREDICTIONS,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Train the LightGBM conversion model; starts the MLflow run."""
    from leadscore.stages import train as stage

    return stage.run(load_params(params).train, features, bundle, RUN_FILE, valid_predictions)


@_verb
def calibrate(
    features: Path = Path("data/processed/features.parquet"),
    bundle: Path = BUNDLE,
    valid_predictions: Path = VALID_PREDICTIONS,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Blend with the fit score, calibrate and choose the band thresholds."""
    from leadscore.stages import calibrate as stage

    cfg = load_params(params).calibrate
    return stage.run(cfg, features, bundle, RUN_FILE, valid_predictions)


@_verb
def evaluate(
    features: Path = Path("data/processed/features.parquet"),
    bundle: Path = BUNDLE,
    truth: OptPath = None,
    metrics: Path = Path("reports/metrics.json"),
    plots: Path = Path("reports/plots"),
    scores: Path = Path("data/processed/test_scores.parquet"),
    excluded: Path = Path("data/processed/excluded_features.parquet"),
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Held-out metrics on the latest leads, with baselines and the best achievable."""
    from leadscore.stages import evaluate as stage

    loaded = load_params(params)
    return stage.run(
        loaded.evaluate,
        loaded.train,
        loaded.calibrate.thresholds,
        features,
        bundle,
        RUN_FILE,
        truth,
        metrics,
        plots,
        scores,
        excluded,
    )


@_verb
def report(
    metrics: Path = Path("reports/metrics.json"),
    scores: Path = Path("data/processed/test_scores.parquet"),
    features: Path = Path("data/processed/features.parquet"),
    plots: Path = Path("reports/plots"),
    bundle: Path = BUNDLE,
    out_dir: Path = Path("reports"),
    audit: Path = Path("reports/leakage_audit.json"),
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Render the self-contained HTML model report and its CSV companions."""
    from leadscore.stages import report as stage

    p = load_params(params)
    return stage.run(
        p.report, p.calibrate.thresholds, metrics, scores, features, plots, bundle, RUN_FILE,
        out_dir, audit,
    )  # fmt: skip


@_verb
def export(
    bundle: Path = BUNDLE,
    features: Path = Path("data/processed/features.parquet"),
    metrics: Path = Path("reports/metrics.json"),
    out: Path = Path("models/lead_scorer"),
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Write the MLflow pyfunc artifact and register it in the MLflow model registry."""
    from leadscore.stages import export as stage

    p = load_params(params)
    return stage.run(p.export, p, bundle, features, metrics, RUN_FILE, out)


@_verb
def score(
    model: Annotated[Path, typer.Option(help="Exported artifact directory.")],
    leads: Annotated[str, typer.Option(help=f"Lead table: {TABLE_URI_HELP}")],
    out: Annotated[str, typer.Option(help="Scores table (upserted by lead_id), same URI forms.")],
    events: Annotated[str | None, typer.Option(help="Engagement event log, same forms.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Scoring moment (default: now, UTC).")] = None,
    max_reject_rate: Annotated[float, typer.Option(min=0, max=1)] = 0.05,
    drift_threshold: Annotated[
        float, typer.Option(min=0, help="Warn when a PSI exceeds this (score, top features).")
    ] = 0.25,
    fail_on_drift: Annotated[bool, typer.Option(help="Exit with code 8 on drift.")] = False,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Leads per chunk; memory grows with it, not the table.")
    ] = 100_000,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: this process. dask: a Dask cluster; --leads, --events and --out are "
            "then folders of Parquet files partitioned by lead id (see the README)."
        ),
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (default: a LocalCluster on this machine)."),
    ] = None,
) -> dict:
    """Score a lead table with an exported model; rejected rows go to a quarantine beside it."""
    from leadscore.artifact import load_scorer
    from leadscore.batch import score_tables
    from leadscore.tables import parse_table_uri

    try:
        moment = pd.Timestamp(as_of) if as_of else pd.Timestamp.now(tz="UTC")
    except ValueError as exc:
        raise ConfigError(f"--as-of {as_of!r} is not a timestamp (e.g. 2026-11-01T02:00Z)") from exc
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    if engine is Engine.dask:
        from leadscore.dask_batch import score_partitioned

        return score_partitioned(
            model, leads, events, out, moment, max_reject_rate, drift_threshold, fail_on_drift,
            chunk_size, scheduler=scheduler,
        )  # fmt: skip
    if scheduler:
        raise ConfigError("--scheduler needs --engine dask")
    tables = [parse_table_uri(uri) if uri else None for uri in (leads, events, out)]
    return score_tables(
        load_scorer(model), *tables, moment, max_reject_rate, drift_threshold, fail_on_drift,
        chunk_size,
    )  # fmt: skip


@_verb
def promote(
    features: Path = Path("data/processed/features.parquet"),
    leads: Path = Path("data/interim/leads.parquet"),
    events: OptPath = Path("data/interim/events.parquet"),
    force: Annotated[bool, typer.Option(help="Promote even if not better.")] = False,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Move the champion alias to the candidate if it beats the champion on the held-out window."""
    from leadscore.promotion import promote as run

    p = load_params(params)
    return run(p.export, p.promote, features, leads, events, force)


@app.command()
def serve(
    model: Annotated[Path, typer.Option(help="Exported artifact directory.")] = Path(
        "models/lead_scorer"
    ),
    host: str = "127.0.0.1",
    port: int = 8000,
    max_batch: Annotated[int, typer.Option(min=1, help="Leads per /score/batch call.")] = 1000,
    max_body_bytes: Annotated[int, typer.Option(min=1)] = 1_000_000,
) -> None:
    """Serve the online scoring API (POST /score, POST /score/batch, GET /health, GET /model)."""
    import uvicorn

    from leadscore.api import create_app

    app = create_app(model, max_batch, max_body_bytes)
    # Everything loaded so far (libraries, model, vocabularies) lives as long as the server: out
    # of the garbage collector's sight, a full collection no longer walks its ~250,000 objects,
    # which took ~250 ms, stalling whichever request it fell on.
    gc.freeze()
    uvicorn.run(app, host=host, port=port)


@_verb
def summary(
    metrics: Path = Path("reports/metrics.json"),
    model: Path = Path("models/lead_scorer"),
) -> dict:
    """Where the pipeline put the model, the MLflow run and the reports."""
    from leadscore.io import read_json
    from leadscore.tracking import tracking_uri

    run = read_json(RUN_FILE)
    held_out = read_json(metrics)
    return {
        "model": str(model),
        "mlflow": f"run {run['run_id']} in {tracking_uri()} (see it with: mlflow ui "
        f"--backend-store-uri {tracking_uri()})",
        "reports": sorted(str(p) for p in Path("reports").glob("*.html")),
        "held_out_roc_auc": round(held_out["roc_auc"], 4),
        # only synthetic data knows the best achievable; elsewhere it is null, not NaN (not JSON)
        "best_achievable_roc_auc": (
            round(held_out["bayes_roc_auc"], 4) if "bayes_roc_auc" in held_out else None
        ),
    }
