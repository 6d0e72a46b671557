"""Both notebooks run top to bottom against the shared pipeline run's outputs."""

import json

import nbformat
import pytest
from nbclient import NotebookClient

from support import REPO

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_the_two_notebooks_are_there_and_committed_without_outputs():
    assert [n.name for n in NOTEBOOKS] == ["01-explore-leads.ipynb", "02-review-model.ipynb"]
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(project, path, monkeypatch):
    """Run from the project's root with LEADSCORE_PROJECT pointing at it; a failing cell raises
    CellExecutionError, which fails the test."""
    root, env = project
    monkeypatch.setenv("LEADSCORE_PROJECT", str(root))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PATH", env["PATH"])
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(root)}}).execute()  # fmt: skip
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum(o.output_type in ("execute_result", "display_data") for o in outputs) >= 4
    first = next(o for o in outputs if o.output_type == "execute_result")
    assert first.data["text/plain"] == repr(root.resolve())  # it read the pipeline run's outputs
