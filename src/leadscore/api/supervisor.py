"""``leadscore serve --workers N``: uvicorn's supervisor, with SIGHUP passed to the workers.

uvicorn's supervisor answers SIGHUP by replacing every worker. A retired worker closes its idle
keep-alive connections, and a client may have sent its next request on one at that very moment:
it meets a reset connection, and a POST is not retried (the figures are on the docs' results
page). Here each worker gets the SIGHUP instead and loads the model anew in place,
as a single server does (:mod:`leadscore.api.reload`): no connection is closed, and requests in
flight finish on the old model.
"""

from __future__ import annotations

import logging
import os
import signal

from uvicorn import Config
from uvicorn.supervisors.multiprocess import Multiprocess

log = logging.getLogger(__name__)


class Supervisor(Multiprocess):
    """uvicorn's multiprocess supervisor, reloading the workers' model on SIGHUP."""

    def handle_hup(self) -> None:
        log.info("SIGHUP: every worker loads the model anew, in place")
        for process in self.processes:
            # a worker takes SIGHUP once started (before, the signal would end it): one still
            # starting is waited for, then told too (it may have read the alias before it moved)
            patience = self.config.timeout_worker_healthcheck
            if process.wait_until_ready(patience, self.should_exit) and process.pid is not None:
                os.kill(process.pid, signal.SIGHUP)


def run_workers(config: Config) -> None:
    """Serve ``config`` (an import string with ``workers`` > 1) from supervised workers."""
    Supervisor(config, sockets=[config.bind_socket()]).run()
