"""Background threads, one per core, for work that runs in C without the GIL.

An online call's TreeSHAP (LightGBM's C code, which releases the GIL) can run on the second
core while Python computes the rest of the answer. A thread pool made before a ``fork`` has no
threads in the child but believes it has, and would never run what it is given: the child
starts with none and makes its own.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from leadscore.scoring.options import usable_cores

_pool: ThreadPoolExecutor | None = None


def background() -> ThreadPoolExecutor:
    """The process's background thread pool, a thread per core it may use, made on first use
    (requests answered in parallel threads each get one)."""
    global _pool
    if _pool is None:
        cores = usable_cores()
        _pool = ThreadPoolExecutor(max_workers=cores, thread_name_prefix="leadscore-background")
    return _pool


def _forget() -> None:
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget)
