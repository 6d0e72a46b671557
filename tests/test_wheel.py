"""Outside this checkout: the artifact loads in a fresh environment built from its own
requirements, and the wheel's `leadscore[serve]` scores a table and an API request there, with
none of the training side (DVC, Optuna, matplotlib, Dask) installed.

Both install from the package registry with the pinned constraints, as a deployment would.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from support import BIN, REPO, free_port, run, serving

pytestmark = pytest.mark.slow

AS_OF = "2026-10-01T00:00:00Z"
TRAINING_SIDE = {"dvc", "optuna", "matplotlib", "dask", "distributed", "jinja2"}
CHECK = """
import json, sys, warnings
import mlflow
from mlflow.models import validate_serving_input
import pandas as pd
artifact = sys.argv[1]
example = open(f"{artifact}/serving_input_example.json").read()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)  # deprecated for mlflow.models.predict
    served = validate_serving_input(artifact, example)
rows = json.loads(open(f"{artifact}/input_example.json").read())
scores = mlflow.pyfunc.load_model(artifact).predict(pd.DataFrame(**rows))
import leadscore
found = {"served": served["probability"].tolist(), "pyfunc": scores["probability"].tolist()}
print(json.dumps(found | {"leadscore": leadscore.__file__}))
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> tuple[Path, Path, dict]:
    """The wheel built with `python -m build` from a copy of the sources, and a new, empty
    virtual environment (its bin folder); the environment variables without this checkout's."""
    top = tmp_path_factory.mktemp("wheel")
    source = top / "source"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run([sys.executable, "-m", "build", "--outdir", str(top / "dist"), str(source)], top, env)
    wheel = next((top / "dist").glob("leadscore-*.whl"))
    run([sys.executable, "-m", "venv", str(top / "venv")], top, env)
    return top / "venv" / "bin", wheel, env


def _installed(venv: Path, env: dict) -> set[str]:
    listed = run([str(venv / "python"), "-m", "pip", "list", "--format", "json"], venv, env)
    return {p["name"].lower() for p in json.loads(listed.stdout)}


def test_the_artifact_loads_from_its_own_requirements(project, fresh, tmp_path):
    root, _ = project
    venv, _, env = fresh
    artifact = root / "models/lead_scorer"
    run([str(venv / "pip"), "install", "-q", "-r", str(artifact / "requirements.txt"),
         "-c", str(REPO / "constraints.txt")], tmp_path, env)  # fmt: skip
    assert "leadscore" not in _installed(venv, env)  # it comes with the artifact, as its code
    checked = json.loads(run([str(venv / "python"), "-c", CHECK, str(artifact)], tmp_path,
                             env).stdout.splitlines()[-1])  # fmt: skip
    assert Path(checked["leadscore"]).is_relative_to(artifact / "code")
    import mlflow

    rows = json.loads((artifact / "input_example.json").read_text())
    here = mlflow.pyfunc.load_model(str(artifact)).predict(pd.DataFrame(**rows))
    np.testing.assert_allclose(checked["pyfunc"], here["probability"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(checked["served"], here["probability"], rtol=0, atol=1e-9)


def test_leadscore_serve_scores_a_table_and_a_request_without_the_training_side(
    project, fresh, tmp_path
):
    root, project_env = project
    venv, wheel, env = fresh
    run([str(venv / "pip"), "install", "-q", f"{wheel}[serve]", "-c",
         str(REPO / "constraints.txt")], tmp_path, env)  # fmt: skip
    assert "leadscore" in _installed(venv, env)
    assert not TRAINING_SIDE & _installed(venv, env)
    leads = pd.read_parquet(root / "data/raw/leads.parquet").drop_duplicates("lead_id")
    leads = leads.drop(columns=["converted", "converted_at"]).iloc[200:230]
    leads.to_parquet(tmp_path / "leads.parquet")
    scores = {}
    for where, leadscore in (("here", BIN / "leadscore"), ("fresh", venv / "leadscore")):
        argv = [str(leadscore), "score", "--model", str(root / "models/lead_scorer"),
                "--leads", "leads.parquet", "--events", str(root / "data/raw/events.parquet"),
                "--out", f"{where}.parquet", "--as-of", AS_OF]  # fmt: skip
        run(argv, tmp_path, env if where == "fresh" else project_env)
        scores[where] = pd.read_parquet(tmp_path / f"{where}.parquet").set_index("lead_id")
    np.testing.assert_allclose(
        scores["fresh"]["probability"], scores["here"]["probability"], rtol=0, atol=1e-9
    )
    assert scores["fresh"]["band"].tolist() == scores["here"]["band"].tolist()
    lead = json.loads(leads.iloc[[3]].to_json(orient="records", date_format="iso"))[0]
    events = pd.read_parquet(root / "data/raw/events.parquet")
    own = events[events["lead_id"] == lead["lead_id"]].drop(columns="lead_id")
    body = {"lead": lead, "as_of": AS_OF,
            "events": json.loads(own.to_json(orient="records", date_format="iso"))}  # fmt: skip
    port = free_port()
    argv = [str(venv / "leadscore"), "serve", "--model", str(root / "models/lead_scorer"),
            "--port", str(port), "--insecure-no-auth"]  # fmt: skip
    with serving(argv, tmp_path, env, port):
        answer = requests.post(f"http://127.0.0.1:{port}/score", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    want = scores["here"].loc[lead["lead_id"]]
    assert abs(answer.json()["probability"] - want["probability"]) <= 1e-9
    assert answer.json()["band"] == want["band"]
