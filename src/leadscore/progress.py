"""Progress of long work: a bar on a terminal, plain log lines in a scheduler's log file."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

log = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 10.0  # a cron log gets a line this often, not one per chunk


class _LogProgress:
    """What a bar would show, as a log line at most every ``LOG_EVERY_SECONDS``."""

    def __init__(self, total: int | None, unit: str, desc: str) -> None:
        self.total, self.unit, self.desc = total, unit, desc
        self.done, self.started, self.last = 0, time.monotonic(), 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= LOG_EVERY_SECONDS or self.done == self.total:
            self.last = now
            rate = self.done / max(now - self.started, 1e-9)
            of = f" of {self.total:,} ({self.done / max(self.total, 1):.0%})" if self.total else ""
            log.info(
                "%s: %s %s%s, %.0f %s/s",
                self.desc,
                f"{self.done:,}",
                self.unit,
                of,
                rate,
                self.unit,
            )


@contextmanager
def progress(total: int | None, unit: str, desc: str) -> Iterator[tqdm | _LogProgress]:
    """Yield an object with ``update(n)``: tqdm when stderr is a terminal, else a logger."""
    if sys.stderr.isatty():
        with tqdm(total=total, unit=unit, desc=desc, unit_scale=True) as bar:
            yield bar
    else:
        yield _LogProgress(total, unit, desc)
