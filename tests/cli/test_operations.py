"""The verbs that use a model say in one line, with exit code 3, that the model is not there
or cannot be read, whether it is a folder or a registry URI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from leadscore.cli import app

CASES = {
    "missing folder": ("{tmp}/nothing", "no exported model there (no MLmodel file)"),
    "unreadable artifact": ("{tmp}/broken", "the model cannot be loaded"),
    "no tracking store": ("models:/lead-scorer@champion", "no MLflow store there"),
    "not a registry URI": ("models:/lead-scorer#3", "use models:/<name>@<alias>"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("verb", ["score", "serve"])
def test_a_model_that_cannot_be_loaded_is_one_line_and_exit_3(tmp_path, monkeypatch, case, verb):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "MLmodel").write_text("flavors: {}\n")
    model, message = CASES[case]
    args = ["--leads", "leads.parquet", "--out", "out.parquet"] if verb == "score" else []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("LEADSCORE_API_KEYS", "a-key")  # serve refuses to start without one
    done = CliRunner().invoke(app, [verb, "--model", model.format(tmp=tmp_path), *args])
    assert done.exit_code == 3, done.output
    assert isinstance(done.exception, SystemExit)  # not an unhandled error and its traceback
    lines = [line for line in done.stderr.splitlines() if f"leadscore {verb}: error" in line]
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not (tmp_path / "mlflow.db").exists()  # no empty store made on the way
