"""Check each ``dvc.yaml`` of the repository against the source files its stages run.

The files are derived from the code by :mod:`leadscore.onboarding.dependencies` (which
``leadscore init`` uses to write a new pipeline). Run ``python tests/dependencies.py
[dvc.yaml ...]`` to print what each stage misses, and with ``--write`` to rewrite each stage's
``src/leadscore`` deps as the derived files (whole folders for the CLI, the feature families, the
generator and the report).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

from leadscore.onboarding.dependencies import (
    PACKAGE,
    SRC,
    closure,
    dep_path,
    source_deps,
    stage_closure,
)

REPO = Path(__file__).resolve().parents[1]
__all__ = ["closure", "load_stages", "source_deps", "stage_verbs", "uncovered", "write_deps"]


def load_stages(dvc_file: Path) -> dict[str, dict]:
    return yaml.safe_load(dvc_file.read_text())["stages"]


def stage_verbs(stages: dict[str, dict]) -> dict[str, str]:
    """Each stage and the ``leadscore`` verb its command runs."""
    verbs = {}
    for name, stage in stages.items():
        words = stage["cmd"].split()
        assert words[0] == "leadscore", f"stage {name} does not run leadscore"
        verbs[name] = words[1]
    return verbs


def uncovered(stages: dict[str, dict], base: Path) -> dict[str, list[str]]:
    """Per stage, the source files it runs that none of its declared deps (relative to
    ``base``, the ``dvc.yaml``'s folder) covers."""
    out = {}
    for stage, verb in stage_verbs(stages).items():
        needed = stage_closure(verb)
        deps = [(base / d).resolve() for d in stages[stage].get("deps", [])]
        missing = [
            os.path.relpath(f, base)
            for f in sorted(needed)
            if not any(f == d or d in f.parents for d in deps)
        ]
        if missing:
            out[stage] = missing
    return out


def write_deps(dvc_file: Path) -> None:
    """Replace each stage's ``src/leadscore`` deps in ``dvc_file`` by :func:`source_deps`,
    keeping every other line (comments, data deps, the file's indentation) as it is."""
    verbs = stage_verbs(load_stages(dvc_file))
    prefix = os.path.relpath(SRC / PACKAGE, dvc_file.parent)
    out, stage, written = [], None, set()
    for line in dvc_file.read_text().splitlines(keepends=True):
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            stage = line.strip().rstrip(":")
        if line.strip().startswith(f"- {prefix}"):
            if stage not in written:
                indent = line[: len(line) - len(line.lstrip())]
                out += [f"{indent}- {dep_path(prefix, dep)}\n" for dep in source_deps(verbs[stage])]
                written.add(stage)
            continue
        out.append(line)
    dvc_file.write_text("".join(out))


if __name__ == "__main__":
    write = "--write" in sys.argv
    files = [Path(a) for a in sys.argv[1:] if a != "--write"] or [REPO / "dvc.yaml"]
    for dvc_file in files:
        dvc_file = dvc_file.resolve()
        if write:
            write_deps(dvc_file)
        for stage, missing in uncovered(load_stages(dvc_file), dvc_file.parent).items():
            print(f"{dvc_file} {stage}:", *missing, sep="\n  - ")
