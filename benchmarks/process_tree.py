"""A command run in a fresh process, timed, with the peak memory of its whole process tree.

``leadscore score --workers N`` is a parent and N worker processes (and the forkserver they are
forked from), so the peak of one process says little: the tree's memory is sampled (psutil,
every ``interval`` seconds) and summed over its live processes, twice: resident memory (RSS),
which counts the pages the processes share (the libraries the forkserver imported before forking)
once per process, an upper bound; and proportional set size (PSS, from /proc/PID/smaps_rollup),
which splits each shared page between its processes, so the sum is the memory the run holds.
"""

from __future__ import annotations

import subprocess
import tempfile
import time

import psutil

MIB = 1024 * 1024


def measured(argv: list[str], *, interval: float = 0.2) -> dict:
    """Run ``argv``: wall seconds, stdout, the peaks over samples of the summed RSS and PSS of the
    tree, the largest RSS of one process, how many processes the tree had at most, and the CPU
    seconds of its processes (as last sampled: a shared machine stretches wall time, much less
    the CPU time a run needs)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        root = psutil.Process(child.pid)
        peak_sum = peak_pss = peak_one = processes = 0
        cpu: dict[int, float] = {}  # CPU seconds of each process of the tree, as last seen
        while child.poll() is None:
            sizes = _tree_memory(root, cpu)
            if sizes:
                rss = [r for r, _ in sizes]
                peak_sum, peak_one = max(peak_sum, sum(rss)), max(peak_one, max(rss))
                peak_pss = max(peak_pss, sum(p for _, p in sizes))
                processes = max(processes, len(sizes))
            time.sleep(interval)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode:
        raise SystemExit(f"{argv[:3]} failed ({child.returncode}):\n{stderr[-3000:]}")
    return {
        "seconds": seconds,
        "stdout": stdout,
        "peak_rss_mib_sum_of_processes": round(peak_sum / MIB),
        "peak_pss_mib_sum_of_processes": round(peak_pss / MIB),
        "peak_rss_mib_largest_process": round(peak_one / MIB),
        "processes": processes,
        "cpu_seconds_sum_of_processes": round(sum(cpu.values()), 1),
    }


def _tree_memory(root: psutil.Process, cpu: dict[int, float]) -> list[tuple[int, int]]:
    """RSS and PSS of ``root`` and each of its descendants alive now (bytes); their CPU seconds
    (user and system) so far into ``cpu``."""
    try:
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    sizes = []
    for process in tree:
        try:
            memory = process.memory_full_info()
            times = process.cpu_times()
        except psutil.Error:  # ended between the listing and the reading
            continue
        cpu[process.pid] = times.user + times.system
        sizes.append((memory.rss, memory.pss))
    return sizes
