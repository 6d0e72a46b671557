"""Secrets out of everything leadscore shows: a password in a URI never reaches a summary, a log
line, an error message, an HTTP body, a runs table or a file ``init`` writes for git.

A database or MLflow store URI carries its password in one of two places: the user part
(``postgresql+psycopg://user:secret@host/crm``) or the query string
(``.../crm?password=secret``, ``?sslpassword=…``, ``?token=…``). SQLAlchemy's
``render_as_string(hide_password=True)`` masks only the first, so both are masked here, in any
text (an exception's message quotes the URI it failed on). A password that holds an unencoded
``@`` is masked up to the last ``@`` of the URI: more is hidden, never less.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# a query-string key that names a secret: password, passwd, pwd, sslpassword, secret, token,
# api_key, access_key, ...
SECRET_KEY = r"[A-Za-z0-9_.-]*(?:pass(?:word|wd)?|pwd|secret|token|key)[A-Za-z0-9_.-]*"
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@?#]*):(?P<secret>[^\s]*)@(?=[^\s@]*(?:\s|$))"
)
_QUERY = re.compile(rf"(?P<head>[?&;]{SECRET_KEY}=)(?P<secret>[^&;#\s]*)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the password of every URI in it replaced by ``***``."""
    text = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@" if m["secret"] else m[0], text)
    return _QUERY.sub(lambda m: f"{m['head']}{MASK}", text)


def is_secret_key(key: str) -> bool:
    """Whether a URI's query-string key names a secret (so it is left out of written files)."""
    return re.fullmatch(SECRET_KEY, key, re.IGNORECASE) is not None


class RedactingFilter(logging.Filter):
    """Masks URI passwords in a log record's message, whoever logged it (MLflow, SQLAlchemy,
    uvicorn or leadscore)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = redact(message)
        if shown != message:
            record.msg, record.args = shown, None
        return True
