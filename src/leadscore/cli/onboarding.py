"""``leadscore init``: a new table's config and pipeline, proposed from a sample of it."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from leadscore.cli.app import verb
from leadscore.errors import ConfigError, EmptyInputError

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
    import pandas as pd

    from leadscore.data.tables import parse_table_uri, read_chunks
    from leadscore.onboarding import proposal, rules, writing

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ConfigError(f"--name {name!r}: use lower-case letters, digits, '-' and '_'")
    if (outcomes is None) != (outcome_key is None):
        raise ConfigError("--outcomes and --outcome-key go together")
    refs = {
        t: parse_table_uri(u)
        for t, u in (("leads", leads), ("events", events), ("outcomes", outcomes))
        if u is not None
    }
    samples = {t: next(read_chunks(ref, sample_rows), pd.DataFrame()) for t, ref in refs.items()}
    empty = [t for t, sample in samples.items() if sample.empty]
    if empty:
        raise EmptyInputError(f"the {empty[0]} table is empty: there is nothing to propose from")
    found = proposal.propose(
        samples["leads"],
        events=samples.get("events"),
        outcomes=samples.get("outcomes"),
        outcome_key=outcome_key,
    )
    fit = rules.propose_fit_rules(
        samples["leads"], found.fit_columns, found.label, proposal.training_share(found)
    )
    files = writing.project_files(found, fit, refs, name=name, rows=len(samples["leads"]))
    written = writing.write_files(files, force=force)
    return {"written": written, "todo": found.todo, "next": f"dvc repro pipelines/{name}/dvc.yaml"}
