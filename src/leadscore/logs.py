"""How leadscore logs: one record a line on stderr, with its level, as text or as JSON.

Every verb and the API log the same way (``--log-format text|json`` or ``LEADSCORE_LOG_FORMAT``):
text for a person reading a terminal or a cron log, JSON (python-json-logger's: ``time``,
``level``, ``logger``, ``message``) for a log collector. Python's warnings (an artifact trained
with other library versions, say) go through the same handler (``logging.captureWarnings``),
with their level. In the API every record made while a request is served carries that request's
id (see :mod:`leadscore.api.observe`). No record shows a URI's password, whoever made it
(:mod:`leadscore.redaction`).

Nothing here runs on import: the CLI configures logging once, when a verb starts.
"""

from __future__ import annotations

import logging
import logging.config
import os
from contextvars import ContextVar
from typing import Any, Literal

from leadscore.redaction import RedactingFilter

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_FORMAT_ENV = "LEADSCORE_LOG_FORMAT"
MLFLOW_LOGGING_ENV = "MLFLOW_CONFIGURE_LOGGING"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_FIELDS = {"asctime": "time", "levelname": "level", "name": "logger"}

request_id: ContextVar[str | None] = ContextVar("leadscore_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Gives a record the id of the request being served, when there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None:
            record.request_id = current
        return True


class TextFormatter(logging.Formatter):
    """:data:`TEXT_FORMAT`, and ``request=<id>`` at the end of a record made during a request."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        given = getattr(record, "request_id", None)
        return text if given is None else f"{text} request={given}"


def logging_config(log_format: LogFormat, *, level: str = "INFO") -> dict[str, Any]:
    """The :func:`logging.config.dictConfig` of ``log_format``; uvicorn applies it in each of
    its worker processes too."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {LOG_FORMATS}")
    formatters = {
        "text": {"()": TextFormatter},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": TEXT_FORMAT,
            "rename_fields": JSON_FIELDS,
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestIdFilter}, "secrets": {"()": RedactingFilter}},
        "formatters": {log_format: formatters[log_format]},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": log_format,
                "filters": ["request", "secrets"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        # uvicorn's own records go to the same handler; its access log is replaced by the API's
        # own line (with the request id, without the query string)
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            # MLflow's store migrations (a new SQLite or PostgreSQL store): a dozen lines of
            # set-up notes per run, which MLflow's own logging set-up used to hide
            "alembic": {"level": "WARNING"},
        },
    }


def configure_logging(log_format: LogFormat) -> None:
    """Log to stderr in ``log_format``, Python's warnings included. MLflow, imported later,
    would install a handler of its own in its own format: told not to, its records come here
    (in JSON under ``--log-format json``, masked like every other)."""
    os.environ.setdefault(MLFLOW_LOGGING_ENV, "false")
    logging.config.dictConfig(logging_config(log_format))
    logging.captureWarnings(True)
