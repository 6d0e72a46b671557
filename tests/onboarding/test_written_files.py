"""What `leadscore init` writes for git is data, never code: a path or URL with shell syntax in it
is one quoted word of the stage command DVC runs through a shell, and a column name with line
breaks stays inside its comment instead of adding a key to params.yaml (issue 34, items 2, 4)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from support import BIN, run

pytestmark = pytest.mark.slow
ROWS = 120


@pytest.fixture(scope="module")
def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}


def _leads(n: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) * 7, unit="h")
    return pd.DataFrame(
        {
            "Created": created.strftime("%Y-%m-%d %H:%M"),
            "Job Title": rng.choice(["Director", "Analyst"], n),
            "Converted": rng.choice(["Yes", "No"], n),
        }
    )


def _init_and_extract(root: Path, env: dict, leads: str) -> Path:
    """`leadscore init` of ``leads``, then DVC runs the written extract stage; the pipeline."""
    root.mkdir(parents=True, exist_ok=True)
    run(["dvc", "init", "--no-scm", "-q"], root, env)
    run(["leadscore", "init", "--name", "crm", "--leads", leads], root, env)
    run(["dvc", "repro", "pipelines/crm/dvc.yaml:extract"], root, env)
    return root / "pipelines" / "crm"


def _extract_argv(pipeline: Path) -> list[str]:
    stages = yaml.safe_load((pipeline / "dvc.yaml").read_text())["stages"]
    return shlex.split(stages["extract"]["cmd"])


@pytest.mark.parametrize(
    "name",
    ["leads $(touch PWNED) `touch PWNED` & echo 'it' \"was\"; #.csv", "my leads.csv"],
)
def test_a_path_with_shell_syntax_is_one_word_of_the_stage_command(name, env, tmp_path):
    root = tmp_path / "project"
    source = tmp_path / "exports" / name
    source.parent.mkdir()
    _leads().to_csv(source, index=False)
    pipeline = _init_and_extract(root, env, str(source))
    argv = _extract_argv(pipeline)
    given = Path(pipeline, argv[argv.index("--leads") + 1]).resolve()
    assert given == source.resolve()
    extract = json.loads((pipeline / "reports/extract.json").read_text())
    assert extract["leads"]["rows"] == ROWS
    assert not list(tmp_path.rglob("PWNED"))


def test_a_database_url_with_a_query_string_reaches_extract_whole(env, tmp_path):
    database = tmp_path / "crm db.sqlite"
    _leads().to_sql("leads", sa.create_engine(f"sqlite:///{database}"), index=False)
    url = f"sqlite:///file:{database}?mode=ro&uri=true#leads"  # '&' ends a shell command
    pipeline = _init_and_extract(tmp_path / "project", env, url)
    argv = _extract_argv(pipeline)
    assert unquote(argv[argv.index("--leads") + 1]) == url  # SQLAlchemy writes ':' as %3A
    assert json.loads((pipeline / "reports/extract.json").read_text())["leads"]["rows"] == ROWS


def test_a_column_name_with_line_breaks_stays_in_its_comment(env, tmp_path):
    """A date column whose every value reads both day-first and month-first gets a TODO that
    names it: the name's line breaks are written as escapes, so params.yaml keeps its keys."""
    hostile = "signup date\nkey: true\r\n#"
    days = np.arange(ROWS) % 12 + 1  # every value reads both ways
    leads = _leads().drop(columns="Created")
    leads.insert(0, hostile, [f"{d:02d}/{(d % 12) + 1:02d}/2024" for d in days])
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    run(["leadscore", "init", "--name", "crm", "--leads", str(source)], tmp_path, env)
    text = (tmp_path / "config/crm/params.yaml").read_text()
    params = yaml.safe_load(text)
    assert "key" not in params
    todo = [line for line in text.splitlines() if line.startswith("# TODO:")]
    assert any("signup date\\nkey: true\\r\\n#" in line for line in todo), todo
    assert hostile in _texts(params)  # the name itself is kept, exactly


def _texts(value: object) -> set[str]:
    """Every text in a parsed YAML document, keys and values."""
    if isinstance(value, dict):
        return set().union(*(_texts(k) | _texts(v) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(set(), *(_texts(v) for v in value))
    return {value} if isinstance(value, str) else set()
