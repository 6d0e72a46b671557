"""The typer application and what every verb shares: the summary-or-error wrapper, options."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from leadscore.data.files import dumps_json
from leadscore.errors import LeadscoreError

app = typer.Typer(
    help="Predictive lead scoring: train, evaluate and score leads.",
    no_args_is_help=True,
    add_completion=False,
)
log = logging.getLogger("leadscore")

ParamsOpt = Annotated[Path, typer.Option("--params", help="Parameter file.")]
OptPath = Annotated[Path | None, typer.Option()]
DEFAULT_PARAMS = Path("params.yaml")


@contextmanager
def exit_on_error(name: str) -> Iterator[None]:
    """An error a user can act on ends the command with one line and its exit code (see
    :mod:`leadscore.errors`), not a traceback."""
    try:
        yield
    except LeadscoreError as exc:
        typer.echo(f"leadscore {name}: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc


def verb(func: Callable[..., dict]) -> Callable[..., None]:
    """Register a verb: it prints its summary as JSON, or its error as one line with its exit
    code (see :mod:`leadscore.errors`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s leadscore %(message)s")
        started = time.perf_counter()
        log.info("%s: started", func.__name__)
        with exit_on_error(func.__name__):
            summary = func(*args, **kwargs)
        log.info("%s: done in %.1f s", func.__name__, time.perf_counter() - started)
        typer.echo(dumps_json(summary))

    app.command(name=func.__name__)(wrapper)
    return wrapper
