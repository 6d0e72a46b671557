"""``leadscore monitor``: did past scores come true? Realized performance and the retrain signal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from leadscore.cli.app import DEFAULT_PARAMS, ParamsOpt, verb
from leadscore.cli.operations import TABLE_URI_HELP, parse_moment
from leadscore.config import load_params
from leadscore.errors import EmptyInputError, InputError, RetrainSignal

if TYPE_CHECKING:
    from leadscore.data.tables import TableRef

JSON_FILE, PAGE_FILE = "monitoring.json", "monitoring.html"


@verb
def monitor(
    scores: Annotated[
        str,
        typer.Option(help=f"Scores of `leadscore score` (or its Dask folder): {TABLE_URI_HELP}"),
    ],
    outcomes: Annotated[
        str,
        typer.Option(
            help="The lead table with its converted and converted_at columns, or the outcomes "
            "table that schema.outcomes declares; same URI forms."
        ),
    ],
    out: Annotated[Path, typer.Option(help=f"Folder for {JSON_FILE} and {PAGE_FILE}.")],
    runs: Annotated[
        str | None,
        typer.Option(help="Runs table (default: the one beside --scores, if there is one)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="The moment outcomes are known up to (default: now, UTC).")
    ] = None,
    params: ParamsOpt = DEFAULT_PARAMS,
) -> dict:
    """Judge past scores against their outcomes per window; exit 9 when a retrain is due."""
    from leadscore.monitoring.runs import runs_ref
    from leadscore.monitoring.summary import monitoring_summary

    p = load_params(params)
    now = parse_moment(as_of)
    scores_ref = _table_ref(scores)
    scores_table = _read(scores_ref)
    if scores_table.empty:
        raise EmptyInputError(f"{scores_ref}: the scores table is empty, there is nothing to judge")
    runs_at = _table_ref(runs) if runs else runs_ref(scores_ref)
    runs_table = _read(runs_at) if runs or _exists(runs_at) else None
    outcomes_table = _read(_table_ref(outcomes))
    summary = monitoring_summary(scores_table, outcomes_table, runs_table, params=p, now=now)
    summary["runs_table"] = str(runs_at) if runs_table is not None else None  # no password
    summary = _written(summary, out)
    if summary["retrain"]:
        raise RetrainSignal(
            f"window {summary['latest_window']}: {'; '.join(summary['reasons'])}; "
            f"see {out / PAGE_FILE}"
        )
    return {
        "monitoring": str(out / JSON_FILE),
        "page": str(out / PAGE_FILE),
        "latest_window": summary["latest_window"],
        "retrain": False,
        "windows": len(summary["windows"]),
        "counts": summary["counts"],
    }


def _written(summary: dict, out: Path) -> dict:
    """The summary as written into ``out``: its JSON file, and the page showing what the file
    holds (NaN as null)."""
    from leadscore.data.files import atomic_output, dumps_json, write_json
    from leadscore.monitoring.page import render_monitoring

    summary = json.loads(dumps_json(summary))
    out.mkdir(parents=True, exist_ok=True)
    write_json(summary, out / JSON_FILE)
    with atomic_output(out / PAGE_FILE) as tmp:
        Path(tmp).write_text(render_monitoring(summary))
    return summary


def _table_ref(uri: str) -> TableRef:
    """A table's reference; a Dask run's scores folder counts as one Parquet table."""
    from leadscore.data.tables import TableRef, parse_table_uri

    return TableRef("parquet", uri) if Path(uri).is_dir() else parse_table_uri(uri)


def _read(ref: TableRef) -> pd.DataFrame:
    """A whole table (a folder of Parquet files read as one)."""
    from leadscore.data.tables import read_all

    if ref.kind == "parquet" and Path(ref.location).is_dir():
        return pd.read_parquet(ref.location)
    return read_all(ref)


def _exists(ref: TableRef) -> bool:
    from leadscore.data.tables import require

    try:
        require(ref)
    except InputError:
        return False
    return True
