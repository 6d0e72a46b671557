"""``leadscore init``: a new table's config and pipeline, proposed from a sample of it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from leadscore.cli.app import verb
from leadscore.errors import ConfigError

SAMPLE_ROWS = 50_000


@verb
def init(
    leads: Annotated[str, typer.Option(help="URI of the lead table (as for score).")],
    name: Annotated[str, typer.Option(help="Name of the config and pipeline folders.")],
    events: Annotated[str | None, typer.Option(help="URI of the event log.")] = None,
    outcomes: Annotated[str | None, typer.Option(help="URI of a table of outcomes.")] = None,
    outcome_key: Annotated[
        str | None, typer.Option(help="The outcomes table's column holding the lead.")
    ] = None,
    sample_rows: Annotated[int, typer.Option(min=100, help="Rows read per table.")] = SAMPLE_ROWS,
    force: Annotated[bool, typer.Option(help="Replace files that exist.")] = False,
) -> dict:
    """Propose config/NAME/params.yaml, config/NAME/fit_rules.yaml and pipelines/NAME/dvc.yaml."""
    from leadscore.data.tables import parse_table_uri, read_chunks
    from leadscore.onboarding import pipeline, proposal, rules, writing

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ConfigError(f"--name {name!r}: use lower-case letters, digits, '-' and '_'")
    if (outcomes is None) != (outcome_key is None):
        raise ConfigError("--outcomes and --outcome-key go together")
    refs = {
        t: parse_table_uri(u)
        for t, u in (("leads", leads), ("events", events), ("outcomes", outcomes))
        if u is not None
    }
    samples = {t: next(read_chunks(ref, sample_rows)) for t, ref in refs.items()}
    found = proposal.propose(
        samples["leads"],
        events=samples.get("events"),
        outcomes=samples.get("outcomes"),
        outcome_key=outcome_key,
    )
    config, folder = Path("config") / name, Path("pipelines") / name
    fit = rules.propose_fit_rules(
        samples["leads"], found.fit_columns, found.label, proposal.training_share(found)
    )
    dated = "created_at" in found.params["schema"]["leads"]
    found.params["calibrate"] = {
        "fit_rules": f"../../{config}/fit_rules.yaml",
        "thresholds": {"policy": "capacity" if dated else "expected_value"},
    }
    found.params["export"] = {"registered_model_name": f"lead-scorer-{name}"}
    local = {
        t: Path(r.location)
        for t, r in refs.items()
        if r.kind in ("parquet", "csv") and "://" not in r.location
    }
    stages = pipeline.pipeline_stages(
        {t: pipeline.command_uri(ref, folder.resolve()) for t, ref in refs.items()},
        folder=folder.resolve(),
        params=(config / "params.yaml").resolve(),
        fit_rules=(config / "fit_rules.yaml").resolve(),
        local=local,
    )
    rows = len(samples["leads"])
    written = writing.write_files(
        {
            config / "params.yaml": writing.render_params(
                found, name=name, source=str(refs["leads"]), rows=rows
            ),
            config / "fit_rules.yaml": writing.render_fit_rules(fit, name=name),
            folder / "dvc.yaml": writing.render_pipeline(stages, name=name),
            folder / ".gitignore": "/mlflow.db\n/data/\n/models/\n/reports/\n/mlruns/\n",
        },
        force=force,
    )
    return {"written": written, "todo": found.todo, "next": f"dvc repro {folder}/dvc.yaml"}
