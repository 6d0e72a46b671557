"""Compiled tree inference: the LightGBM model as machine code, trusted only once it is checked.

LightGBM's own ``predict`` walks every tree of every row through a generic interpreter; lleaves
compiles the same ``model.txt`` with LLVM into straight-line comparisons, many times faster for a
nightly table and for one online row alike. The object code is built once, at export, and kept in
the bundle beside the model. It is used only when it can be trusted:

- the object code is byte for byte the one export built (its SHA-256, recorded in
  ``compiled.json``, whose own SHA-256 is in the artifact's file list), checked on the private
  copy that is then loaded, before any of it runs,
- it was compiled from this very ``model.txt`` (its SHA-256 is recorded),
- for this kind of machine (the LLVM target triple; the code targets the triple's generic CPU, so
  it runs on any processor of that architecture),
- it loads and runs in a forked check process first: object code LLVM cannot relocate aborts
  that process (LLVM ends the process on such errors, which no ``except`` can catch), not this one,
- and, once loaded, it reproduces ``Booster.predict`` to 1e-9 on rows stored with it.

Otherwise the scorer warns why and predicts with the Booster: slower, never wrong.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import shutil
import signal
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np

from leadscore.data.files import file_sha256
from leadscore.modeling.booster import probabilities
from leadscore.scoring.bundle import COMPILED_DIR

log = logging.getLogger(__name__)

OBJECT_FILE = "model.o"  # lleaves' cached object code of model.txt
INFO_FILE = "compiled.json"  # what it was compiled from and for
SAMPLE_FILE = "sample.npy"  # encoded rows the loader checks it on
TOLERANCE = 1e-9
GENERIC_CPU = "generic"  # no host-specific instructions: any CPU of the triple runs the code
ONE_THREAD_BELOW = 10_000  # rows; a thread pool costs more than it saves on fewer
CHECK_TIMEOUT_S = 120  # a forked check of the object code: loading a large forest takes seconds


class Predictor(Protocol):
    """What scoring needs from the model: probabilities of rows of the encoded float matrix."""

    def predict(self, matrix: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """``threads`` None: every core for a large input."""
        ...


class BoosterPredictor:
    """The LightGBM Booster itself: the reference, and the fallback."""

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster

    def predict(self, matrix: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        if threads is None:
            return probabilities(self.booster, matrix)
        return np.asarray(self.booster.predict(matrix, num_threads=threads))


class CompiledPredictor:
    """lleaves' compiled forest; rows are split over threads only for large inputs."""

    def __init__(self, forest: Any) -> None:  # lleaves.Model (lleaves is untyped)
        self.forest = forest

    def predict(self, matrix: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        jobs = 1 if len(matrix) < ONE_THREAD_BELOW else threads or os.cpu_count()
        return self.forest.predict(  # type-checked as Any: lleaves has no types
            np.ascontiguousarray(matrix, dtype=np.float64), n_jobs=jobs
        )


def compile_booster(model_file: Path, sample: np.ndarray, *, out_dir: Path) -> dict:
    """Compile ``model_file`` into ``out_dir`` with the rows the loader will check it on.

    Returns what was recorded in ``compiled.json``.
    """
    import lleaves
    import llvmlite.binding as llvm

    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    forest = lleaves.Model(model_file=str(model_file))
    forest.compile(cache=str(out_dir / OBJECT_FILE), target_cpu=GENERIC_CPU, target_cpu_features="")
    np.save(out_dir / SAMPLE_FILE, np.ascontiguousarray(sample, dtype=np.float64))
    info = {
        "model_sha256": file_sha256(model_file),
        "object_sha256": file_sha256(out_dir / OBJECT_FILE),
        "target_triple": llvm.get_process_triple(),
        "target_cpu": GENERIC_CPU,
        "lleaves": version("lleaves"),
        "llvmlite": version("llvmlite"),
        "sample_rows": len(sample),
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info


def load_predictor(bundle: Path, booster: lgb.Booster, model_file: Path) -> Predictor:
    """The bundle's compiled trees if they are there and check out, else the Booster."""
    folder = bundle / COMPILED_DIR
    if not (folder / INFO_FILE).exists():
        return BoosterPredictor(booster)  # a bundle before export, e.g. evaluation's
    try:
        return _load_checked(folder, booster, model_file)
    except Exception as exc:  # any failure means: do not trust it
        warnings.warn(
            f"{folder}: compiled model not used ({exc}); scoring with LightGBM's own predict, "
            "which gives the same scores more slowly",
            stacklevel=2,
        )
        return BoosterPredictor(booster)


def _load_checked(folder: Path, booster: lgb.Booster, model_file: Path) -> CompiledPredictor:
    import llvmlite.binding as llvm

    info = json.loads((folder / INFO_FILE).read_text())
    if info["model_sha256"] != file_sha256(model_file):
        raise ValueError("it was compiled from another model.txt")
    if info["target_triple"] != llvm.get_process_triple():
        raise ValueError(f"it was compiled for {info['target_triple']}")
    sample = np.load(folder / SAMPLE_FILE)
    # lleaves loads its cache from a path; a private copy keeps a read-only bundle usable, and
    # the copy is what is hashed and then loaded, so nothing can swap it in between
    with tempfile.TemporaryDirectory(prefix="leadscore-compiled-") as tmp:
        cache = Path(tmp) / OBJECT_FILE
        shutil.copyfile(folder / OBJECT_FILE, cache)
        if file_sha256(cache) != info.get("object_sha256"):
            raise ValueError(f"{OBJECT_FILE} is not the object code export built (SHA-256)")
        _check_in_child(cache, model_file, sample)
        forest = _forest(cache, model_file)
    model = CompiledPredictor(forest)
    reference = probabilities(booster, sample)
    gap = float(np.max(np.abs(model.predict(sample) - reference), initial=0.0))
    if not gap <= TOLERANCE:
        raise ValueError(f"it differs from the Booster by {gap:.3g} on its check rows")
    return model


def _forest(cache: Path, model_file: Path) -> Any:
    """lleaves' model of ``model_file`` with its object code loaded from ``cache``."""
    import lleaves

    forest = lleaves.Model(model_file=str(model_file))
    forest.compile(cache=str(cache), target_cpu=GENERIC_CPU, target_cpu_features="")
    return forest


def _check_in_child(cache: Path, model_file: Path, sample: np.ndarray) -> None:
    """Load and run the object code in a forked process first: LLVM aborts the process on an
    object it cannot relocate, and that must end a throwaway child, not the night or the API.
    The child predicts with one thread and no LightGBM (OpenMP does not survive a fork); the
    comparison with the Booster is the parent's. Where there is no fork, this check is skipped."""
    if not hasattr(os, "fork"):
        return
    pid = os.fork()
    if pid == 0:  # the child: silence LLVM's message (and a fault handler's dump), report
        code = 1  # by exit code only
        try:
            faulthandler.disable()
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            _forest(cache, model_file).predict(sample, n_jobs=1)
            code = 0
        finally:
            os._exit(code)
    status = _wait(pid, timeout=CHECK_TIMEOUT_S)
    if status is None:
        raise ValueError(f"loading it did not finish within {CHECK_TIMEOUT_S} s in a check process")
    if os.WIFSIGNALED(status):
        raise ValueError(f"loading it killed a check process (signal {os.WTERMSIG(status)})")
    if os.waitstatus_to_exitcode(status) != 0:
        raise ValueError("it failed to load in a check process")


def _wait(pid: int, *, timeout: float) -> int | None:
    """The child's wait status, or None (and the child killed) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None
