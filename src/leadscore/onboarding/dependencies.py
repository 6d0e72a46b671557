"""Which source files each pipeline verb runs, derived from the code, for ``dvc.yaml`` deps.

A stage's command is ``leadscore <verb>``: it runs the verb's module in ``leadscore.cli`` and the
stage module ``leadscore.stages.<verb>``, and through them every ``leadscore`` module they import
(at the top or inside a function), every module named by a string (``PackageLoader``, the
pyfunc entry point) and the data files of every package on the way (templates). The CLI's
modules are followed only through their top-level imports: their functions import every other
stage too. ``leadscore init`` writes its pipelines' deps with :func:`source_deps`, and the tests
check every ``dvc.yaml`` of the repository against :func:`closure`.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]  # the folder that holds the leadscore package
PACKAGE = "leadscore"
CLI = "leadscore.cli"  # where the stage verbs are defined


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


PACKAGING = ("export",)  # verbs that copy the whole package into their output
FOLDER_DEPS = ("cli", "features", "generate", "report")  # listed whole in dvc.yaml


def stage_closure(verb: str) -> set[Path]:
    """The source files a stage's outputs depend on: every file the stage of ``verb`` runs, or
    every file of the package for a verb that copies the package into its output (``export``
    puts leadscore's code into the artifact)."""
    if verb in PACKAGING:
        package = SRC / PACKAGE
        return {f for f in package.rglob("*") if f.is_file() and "__pycache__" not in f.parts}
    return closure([f"{PACKAGE}.stages.{verb}", f"{CLI}.pipeline"], shallow=CLI)


def source_deps(verb: str) -> list[str]:
    """A stage's source dependencies as ``dvc.yaml`` lists them, relative to ``src/leadscore``
    ("" for the whole package)."""
    if verb in PACKAGING:
        return [""]
    needed = stage_closure(verb)
    out: list[str] = []
    for path in sorted(os.path.relpath(f, SRC / PACKAGE) for f in needed):
        top = path.split("/")[0]
        entry = top if top in FOLDER_DEPS else path
        if entry not in out:
            out.append(entry)
    return out


def dep_path(prefix: str, dep: str) -> str:
    """A ``dvc.yaml`` dependency: ``dep`` (from :func:`source_deps`) under the package folder
    ``prefix``, the folder itself for the whole package."""
    return f"{prefix}/{dep}" if dep else prefix
