"""The typer application and what every verb shares: the summary-or-error wrapper, options."""

from __future__ import annotations

import enum
import functools
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from leadscore.data.files import dumps_json
from leadscore.errors import LeadscoreError
from leadscore.logs import LOG_FORMAT_ENV, LogFormat, configure_logging
from leadscore.redaction import redact

app = typer.Typer(
    help="Predictive lead scoring: train, evaluate and score leads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("leadscore")

ParamsOpt = Annotated[Path, typer.Option("--params", help="Parameter file.")]
OptPath = Annotated[Path | None, typer.Option()]
DEFAULT_PARAMS = Path("params.yaml")


class LogFormatName(enum.StrEnum):
    text = "text"
    json = "json"


@dataclass
class Settings:
    """What the global options set, for every verb of one invocation."""

    debug: bool = False
    log_format: LogFormat = "text"


SETTINGS = Settings()


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="On an error, print its traceback too.")
    ] = False,
    log_format: Annotated[
        LogFormatName,
        typer.Option(envvar=LOG_FORMAT_ENV, help="Log lines as text, or as one JSON object each."),
    ] = LogFormatName.text,
) -> None:
    """Predictive lead scoring: train, evaluate and score leads."""
    SETTINGS.debug = debug
    SETTINGS.log_format = log_format.value
    configure_logging(SETTINGS.log_format)


@contextmanager
def exit_on_error(name: str) -> Iterator[None]:
    """An error ends the command with one line and its exit code (see :mod:`leadscore.errors`),
    not a traceback: an error a user can act on with its own code, anything else (a bug) with
    code 1. ``--debug`` prints the traceback before the line."""
    try:
        yield
    except LeadscoreError as exc:
        _fail(name, f"error: {exc}", exc.exit_code)
    except Exception as exc:  # a bug: one line here, the traceback with --debug
        # the type and where, never the message: a library's message may quote a cell's value
        # (an e-mail, a name), and this line lands in a scheduler's log
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        _fail(
            name,
            f"unexpected error: {type(exc).__name__} at {Path(frame.filename).name}:"
            f"{frame.lineno} in {frame.name} (exit code 1; run with --debug for the message "
            "and the traceback)",
            1,
        )


def _fail(name: str, message: str, code: int) -> NoReturn:
    if SETTINGS.debug:
        traceback.print_exc(file=sys.stderr)
    typer.echo(f"leadscore {name}: {redact(message)}", err=True)
    raise typer.Exit(code)


def verb(func: Callable[..., dict]) -> Callable[..., None]:
    """Register a verb: it prints its summary as JSON, or its error as one line with its exit
    code (see :mod:`leadscore.errors`). The summary is indented for a terminal and one line
    otherwise, so a scheduler appending a night's summary to a file writes JSON Lines."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        log.info("%s: started", func.__name__)
        with exit_on_error(func.__name__):
            summary = func(*args, **kwargs)
        log.info("%s: done in %.1f s", func.__name__, time.perf_counter() - started)
        typer.echo(dumps_json(summary, indent=2 if sys.stdout.isatty() else None))

    app.command(name=func.__name__)(wrapper)
    return wrapper
