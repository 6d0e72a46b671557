"""The verbs that use a trained model: nightly scoring, promotion, and the online API."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from leadscore.cli.app import DEFAULT_PARAMS, SETTINGS, OptPath, ParamsOpt, app, exit_on_error, verb
from leadscore.config import load_params
from leadscore.errors import ConfigError
from leadscore.scoring.options import ScoringOptions, usable_cores

TABLE_URI_HELP = (
    "a .parquet or .csv file, duckdb:///file.duckdb#table, or a SQLAlchemy URL with #table "
    "(e.g. postgresql+psycopg://user@host/db#leads)."
)


WORKER_READY_S = 180  # how long `serve --workers` waits for a new worker to load its model


class Engine(enum.StrEnum):
    """Where ``leadscore score`` runs."""

    local = "local"
    dask = "dask"


ModelOpt = Annotated[
    str,
    typer.Option(
        help="Exported artifact directory, or a registry URI: models:/lead-scorer@champion "
        "(the version the alias points to now) or models:/lead-scorer/3."
    ),
]
LeadsOpt = Annotated[str, typer.Option(help=f"Lead table: {TABLE_URI_HELP}")]
OutOpt = Annotated[str, typer.Option(help="Scores table (upserted by lead_id), same URI forms.")]
EventsOpt = Annotated[str | None, typer.Option(help="Engagement event log, same forms.")]
AsOfOpt = Annotated[str | None, typer.Option(help="Scoring moment (default: now, UTC).")]
RejectOpt = Annotated[float, typer.Option(min=0, max=1, help="Most leads quarantined (share).")]
DriftOpt = Annotated[
    float, typer.Option(min=0, help="Warn when a PSI exceeds this (score, top features).")
]
FailDriftOpt = Annotated[bool, typer.Option(help="Exit with code 8 on drift.")]
ChunkOpt = Annotated[
    int,
    typer.Option(
        min=1,
        help="Leads in memory at a time, split between the chunks in flight (N + 1 with N "
        "workers); memory grows with it.",
    ),
]
WorkersOpt = Annotated[
    int,
    typer.Option(
        min=1,
        help="Processes scoring chunks in parallel (--engine local; default: the cores this "
        "process may use). Each holds the model and a chunk in memory; 1 scores in this process.",
    ),
]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        help="local: this process. dask: a Dask cluster; --leads, --events and --out are "
        "then folders of Parquet files partitioned by lead id (see the docs)."
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (default: a LocalCluster on this machine)."),
]


@verb
def score(
    model: ModelOpt,
    leads: LeadsOpt,
    out: OutOpt,
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    max_reject_rate: RejectOpt = ScoringOptions.max_reject_rate,
    drift_threshold: DriftOpt = ScoringOptions.drift_threshold,
    fail_on_drift: FailDriftOpt = ScoringOptions.fail_on_drift,
    chunk_size: ChunkOpt = ScoringOptions.chunk_size,
    workers: WorkersOpt = usable_cores(),  # noqa: B008 (the cores of this machine, shown in --help)
    engine: EngineOpt = Engine.local,
    scheduler: SchedulerOpt = None,
) -> dict:
    """Score a lead table with an exported model; rejected rows go to a quarantine beside it."""
    options = ScoringOptions(
        as_of=parse_moment(as_of),
        max_reject_rate=max_reject_rate,
        drift_threshold=drift_threshold,
        fail_on_drift=fail_on_drift,
        chunk_size=chunk_size,
        model=model,
        workers=workers,
    )
    if scheduler and engine is not Engine.dask:
        raise ConfigError("--scheduler needs --engine dask")
    from leadscore.scoring.registry import model_source

    with model_source(model) as source:
        if engine is Engine.dask:
            from leadscore.scoring.dask_batch import score_partitioned

            summary = score_partitioned(
                source.path, leads, events, out, options=options, scheduler=scheduler
            )
        else:
            summary = _score_locally(source.path, leads, events, out, options=options)
    return {"model": source.describe(), **summary}


def parse_moment(as_of: str | None) -> pd.Timestamp:
    """``--as-of`` as a UTC moment (naive means UTC); none given: now."""
    try:
        moment = pd.Timestamp(as_of) if as_of else pd.Timestamp.now(tz="UTC")
    except ValueError as exc:
        raise ConfigError(f"--as-of {as_of!r} is not a timestamp (e.g. 2026-11-01T02:00Z)") from exc
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def _score_locally(
    model: Path, leads: str, events: str | None, out: str, *, options: ScoringOptions
) -> dict:
    from leadscore.data.tables import parse_table_uri
    from leadscore.scoring.artifact import load_scorer
    from leadscore.scoring.batch import score_tables

    events_ref = parse_table_uri(events) if events else None
    leads_ref, out_ref = parse_table_uri(leads), parse_table_uri(out)
    # with workers the parent only reads, checks and writes: the compiled model is theirs alone
    scorer = load_scorer(model, compiled=options.workers <= 1)
    return score_tables(scorer, leads_ref, events_ref, out_ref, options=options)


@verb
def promote(
    model: Annotated[
        str | None,
        typer.Option(
            help="The version to promote: models:/<name>@<alias> or models:/<name>/<version> "
            "(default: the version the workspace's models/lead_scorer was registered as)."
        ),
    ] = None,
    features: Path = Path("data/processed/features.parquet"),
    leads: Path = Path("data/interim/leads.parquet"),
    events: OptPath = Path("data/interim/events.parquet"),
    no_events: Annotated[
        bool, typer.Option("--no-events", help="The pipeline has no event log (ignore --events).")
    ] = False,
    force: Annotated[bool, typer.Option(help="Promote even if not better.")] = False,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Move the champion alias to the candidate if it beats the champion on the held-out window."""
    from leadscore.promotion import promote as run
    from leadscore.tracking import store_errors

    p = load_params(params)
    with store_errors():
        return run(
            p.export,
            p.promote,
            candidate=model,
            features_path=features,
            leads_path=leads,
            events_path=None if no_events else events,
            force=force,
        )


@app.command()
def serve(
    model: ModelOpt = "models/lead_scorer",
    host: str = "127.0.0.1",
    port: int = 8000,
    max_batch: Annotated[int, typer.Option(min=1, help="Leads per /score/batch call.")] = 1000,
    max_body_bytes: Annotated[int, typer.Option(min=1)] = 1_000_000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; each loads the model.")
    ] = 1,
    insecure_no_auth: Annotated[
        bool,
        typer.Option(
            "--insecure-no-auth",
            help="Serve without API keys (LEADSCORE_API_KEYS unset): anyone who reaches the "
            "server may call it.",
        ),
    ] = False,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a request's headers may take.")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a request's body may take.")
    ] = 10.0,
    metrics: Annotated[
        bool, typer.Option(help="Count requests, latency and bands for GET /metrics.")
    ] = True,
    max_concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            help="Requests in progress per worker; more get 503 with Retry-After at once, so "
            "that a fresh health check (never refused) is answered within a second under load.",
        ),
    ] = 32,
) -> None:
    """Serve the online scoring API (POST /score, POST /score/batch, GET /health, GET /model).

    Every call but the health checks and /metrics needs a key of LEADSCORE_API_KEYS. SIGHUP (or
    POST /admin/reload with LEADSCORE_ADMIN_KEY) loads the model anew, e.g. the version a
    registry alias points to after `leadscore promote`, without dropping a request.
    """
    from leadscore.api import create_app
    from leadscore.api.guard import INSECURE_ENV
    from leadscore.api.protocol import HEADER_TIMEOUT_ENV, MAX_CONCURRENCY_ENV
    from leadscore.api.reload import (
        BODY_TIMEOUT_ENV,
        MAX_BATCH_ENV,
        MAX_BODY_ENV,
        METRICS_ENV,
        MODEL_ENV,
    )

    settings = {
        MODEL_ENV: model,
        MAX_BATCH_ENV: str(max_batch),
        MAX_BODY_ENV: str(max_body_bytes),
        BODY_TIMEOUT_ENV: str(body_timeout),
        METRICS_ENV: "1" if metrics else "0",
        HEADER_TIMEOUT_ENV: str(header_timeout),
        MAX_CONCURRENCY_ENV: str(max_concurrency),
        INSECURE_ENV: "1" if insecure_no_auth else "0",
    }
    os.environ.update(settings)  # read by the app factory, here and in each worker
    with exit_on_error("serve"):  # a model that does not load, no key: one line, before workers
        api = create_app()
    _run_uvicorn(api, host=host, port=port, workers=workers)


def _run_uvicorn(api: Any, *, host: str, port: int, workers: int) -> None:
    """One worker serves ``api`` itself; several each load their own through the factory, under
    a supervisor that passes SIGHUP on to them."""
    import uvicorn

    from leadscore.api.protocol import SheddingProtocol
    from leadscore.api.reload import SUPERVISOR_ENV
    from leadscore.api.supervisor import run_workers
    from leadscore.logs import logging_config

    server: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": SheddingProtocol,
        "log_config": logging_config(SETTINGS.log_format),
        "access_log": False,  # the API logs each request itself, with its id
    }
    if workers == 1:
        uvicorn.run(api, **server)
        return
    del api  # each worker loads its own, through the factory
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    config = uvicorn.Config(
        "leadscore.api:create_app",
        factory=True,
        workers=workers,
        # a new worker is ready once its model is loaded (downloaded, for a registry URI): on a
        # busy machine that takes longer than uvicorn's 5 s, and a restart would give up
        timeout_worker_healthcheck=WORKER_READY_S,
        **server,
    )
    run_workers(config)
