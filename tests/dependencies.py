"""Which source files each pipeline stage runs, derived from the code, to check ``dvc.yaml``.

A stage's command is ``leadscore <verb>``: it runs the verb's module in ``leadscore.cli`` and the
stage module ``leadscore.stages.<verb>``, and through them every ``leadscore`` module they import
(at the top or inside a function), every module named by a string (``PackageLoader``, the
pyfunc entry point) and the data files of every package on the way (templates). The CLI's
modules are followed only through their top-level imports: their functions import every other
stage too. ``export`` copies the whole package into the artifact (its code), so it depends on
every file of it.

Run ``python tests/dependencies.py [dvc.yaml ...]`` to print what each stage misses, and with
``--write`` to rewrite each stage's ``src/leadscore`` deps as the derived files (whole folders
for the CLI, the feature families, the generator and the report).
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = "leadscore"
CLI = "leadscore.cli"  # where the stage verbs are defined
PACKAGING = ("export",)  # verbs that copy the whole package into their output


def module_file(name: str) -> Path | None:
    """The file of a ``leadscore`` module or package, or None if there is no such module."""
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _named_modules(tree: ast.AST, module: str, nested: bool) -> set[str]:
    """Modules a module's code imports or names; ``nested``: inside functions too."""
    nodes = ast.walk(tree) if nested else iter(tree.body)  # type: ignore[attr-defined]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parts = module.split(".")[: -node.level]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        elif nested and isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
    return {name for name in found if name.split(".")[0] == PACKAGE and module_file(name)}


def _with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def closure(roots: Iterable[str], shallow: str | None = None) -> set[Path]:
    """Every file the ``roots`` run: modules, their packages' ``__init__`` and data files.

    Modules inside the ``shallow`` package are followed through their top-level imports only.
    """
    todo, seen = list(roots), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        assert path is not None, f"no module {name}"
        tree = ast.parse(path.read_text())
        nested = shallow is None or not _with_parents(name) & {shallow}
        for found in _named_modules(tree, name, nested=nested):
            todo.extend(_with_parents(found) - seen)
        todo.extend(_with_parents(name) - seen)
    files: set[Path] = set()
    for name in seen:
        path = module_file(name)
        assert path is not None
        if path.name == "__init__.py":
            files |= _data_files(path.parent)
        if not _only_docstring(path):
            files.add(path)
    return files


def _only_docstring(path: Path) -> bool:
    """A module whose code is its docstring alone (a package's ``__init__``) runs nothing."""
    body = ast.parse(path.read_text()).body
    return len(body) <= 1 and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body
    )


def _data_files(package: Path) -> set[Path]:
    """Files of a package that are not Python modules and not in a subpackage (templates)."""
    out = set()
    for root, dirs, names in os.walk(package):
        here = Path(root)
        if here != package and (here / "__init__.py").exists():
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        out |= {here / n for n in names if not n.endswith((".py", ".pyc")) and n != "py.typed"}
    return out


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


def stage_files(verb: str) -> set[Path]:
    """The source files a stage's output depends on: those it runs, or every file of the
    package for a verb that packages it."""
    if verb in PACKAGING:
        package = SRC / PACKAGE
        return {f for f in package.rglob("*") if f.is_file() and "__pycache__" not in f.parts}
    return closure([f"{PACKAGE}.stages.{verb}", f"{CLI}.pipeline"], shallow=CLI)


def uncovered(stages: dict[str, dict], base: Path) -> dict[str, list[str]]:
    """Per stage, the source files it runs that none of its declared deps (relative to
    ``base``, the ``dvc.yaml``'s folder) covers."""
    out = {}
    for stage, verb in stage_verbs(stages).items():
        needed = stage_files(verb)
        deps = [(base / d).resolve() for d in stages[stage].get("deps", [])]
        missing = [
            os.path.relpath(f, base)
            for f in sorted(needed)
            if not any(f == d or d in f.parents for d in deps)
        ]
        if missing:
            out[stage] = missing
    return out


FOLDER_DEPS = ("cli", "features", "generate", "report")  # listed whole in dvc.yaml


def source_deps(verb: str) -> list[str]:
    """A stage's source dependencies as ``dvc.yaml`` lists them, relative to ``src/leadscore``
    ("" for the whole package)."""
    if verb in PACKAGING:
        return [""]
    needed = stage_files(verb)
    out: list[str] = []
    for path in sorted(os.path.relpath(f, SRC / PACKAGE) for f in needed):
        top = path.split("/")[0]
        entry = top if top in FOLDER_DEPS else path
        if entry not in out:
            out.append(entry)
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
                out += [
                    f"{indent}- {prefix}/{dep}".rstrip("/") + "\n"
                    for dep in source_deps(verbs[stage])
                ]
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
