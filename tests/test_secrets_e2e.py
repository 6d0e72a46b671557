"""A database password reaches no output (issue 34, item 1): a real PostgreSQL role's password,
with '#', '@' and '/' in it, is given in every form a URI can carry it (the user part, the query
string, an MLflow store), and every output is searched for it: stdout, stderr, the JSON log, the
scores, quarantine and runs tables, the files a run or ``init`` writes (``params.yaml``,
``dvc.yaml``), an HTTP error body and the server's log."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
import requests
import sqlalchemy as sa

from support import free_port, postgres_url, run, serving

pytestmark = pytest.mark.slow
ROLE = "leadscore_leak"
PASSWORD = "Zq7#w@Rk/9"
# the password as given and as percent-encoded, and pieces of either: none may be shown
TELLS = ("Zq7", "w@Rk", "Rk/9", "w%40Rk", "Rk%2F9")
AS_OF = "2026-10-01"
ADMIN = {"X-Admin-Key": "admin-key-for-the-test"}


def _leaks(text: str) -> list[str]:
    return [tell for tell in TELLS if tell in text]


def _files_text(root: Path) -> str:
    """Every file a run left under ``root`` (binary ones as their text parts)."""
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()
    )


@pytest.fixture(scope="module")
def database() -> Iterator[dict[str, str]]:
    """A role whose password is :data:`PASSWORD`, with a schema of its own (its search path);
    yields the server's URIs for it with the password in the user part and in the query
    string. (A schema, not a database: dropping a database waits for a checkpoint.)"""
    admin = sa.make_url(postgres_url())
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    _drop(engine)
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'"))
        conn.execute(sa.text(f"CREATE SCHEMA {ROLE} AUTHORIZATION {ROLE}"))
        conn.execute(sa.text(f"ALTER ROLE {ROLE} SET search_path = {ROLE}"))
    place = f"{admin.host}:{admin.port or 5432}/{admin.database}"
    encoded = quote(PASSWORD, safe="")
    yield {
        "user": f"postgresql+psycopg://{ROLE}:{encoded}@{place}",
        "query": f"postgresql+psycopg://{ROLE}@{place}?password={encoded}",
    }
    _drop(engine)


def _drop(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             f"WHERE usename = '{ROLE}'"))  # fmt: skip
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {ROLE} CASCADE"))
        conn.execute(sa.text(f"DROP ROLE IF EXISTS {ROLE}"))


@pytest.fixture(scope="module")
def tonight(project, database) -> pd.DataFrame:
    """Tonight's leads in the role's database (two of them unreadable, for the quarantine), and
    a history with outcomes for ``init``."""
    leads = pd.read_parquet(project[0] / "data/raw/leads.parquet").head(300)
    engine = sa.create_engine(database["user"])
    leads.to_sql("history", engine, index=False, if_exists="replace")
    leads = leads.head(60).drop(columns=["converted", "converted_at"])
    leads["created_at"] = leads["created_at"].astype(str)
    leads.loc[[3, 4], "created_at"] = "not a date"
    leads.to_sql("leads", engine, index=False, if_exists="replace")
    return leads


def _tables_text(url: str) -> str:
    engine = sa.create_engine(url)
    names = sa.inspect(engine).get_table_names()
    return "\n".join(pd.read_sql_table(n, engine).to_csv() for n in names)


def test_a_nightly_run_shows_the_password_nowhere(project, database, tonight, tmp_path):
    root, env = project
    argv = ["leadscore", "--log-format", "json", "score", "--model",
            str(root / "models/lead_scorer"), "--leads", f"{database['user']}#leads",
            "--out", f"{database['query']}#scores", "--as-of", AS_OF]  # fmt: skip
    done = run(argv, tmp_path, env)
    summary = json.loads(done.stdout)
    assert summary["scored"] + summary["quarantined"] == len(tonight) and summary["quarantined"]
    tables = _tables_text(database["user"])
    assert "scores_runs" in sa.inspect(sa.create_engine(database["user"])).get_table_names()
    for where, text in {"stdout": done.stdout, "stderr": done.stderr, "tables": tables,
                        "files": _files_text(tmp_path)}.items():  # fmt: skip
        assert not _leaks(text), (where, _leaks(text))
    assert "password=***" in summary["out"]


def test_init_writes_no_password_for_git(database, tonight, tmp_path, project):
    env = project[1]
    for name, form in database.items():
        done = run(["leadscore", "init", "--name", name, "--leads", f"{form}#history"],
                   tmp_path, env)  # fmt: skip
        assert not _leaks(done.stdout + done.stderr)
        assert (tmp_path / "pipelines" / name / "dvc.yaml").exists()
    assert not _leaks(_files_text(tmp_path))


def test_an_mlflow_store_s_password_is_in_no_error_body_or_log(project, database, tmp_path):
    """score, promote and serve with a registry URI the store cannot resolve; then a server
    whose champion goes away: the 409 of /admin/reload and the log of a failed SIGHUP reload."""
    root, env = project
    env = env | {
        "MLFLOW_TRACKING_URI": database["user"],
        "LEADSCORE_ADMIN_KEY": ADMIN["X-Admin-Key"],
    }
    missing = "models:/lead-scorer@champion"
    for argv in (
        ["score", "--model", missing, "--leads", str(root / "data/raw/leads.parquet"),
         "--out", "s.parquet"],
        ["promote", "--model", missing, "--params", str(root / "params.yaml")],
        ["serve", "--model", missing, "--insecure-no-auth"],
    ):  # fmt: skip
        done = run(["leadscore", *argv], tmp_path, env, check=False)
        assert done.returncode == 3, (argv, done.stderr[-2000:])
        assert "tracking store postgresql+psycopg://leadscore_leak:***@" in done.stderr
        assert not _leaks(done.stdout + done.stderr), argv
    _register(root / "models/lead_scorer", database["user"])
    port, log = free_port(), tmp_path / "server.log"
    argv = ["leadscore", "serve", "--model", missing, "--port", str(port), "--insecure-no-auth"]
    with serving(argv, tmp_path, env, port, log=log) as process:
        _mlflow_client(database["user"]).delete_registered_model_alias("lead-scorer", "champion")
        answer = requests.post(f"http://127.0.0.1:{port}/admin/reload", headers=ADMIN, timeout=60)
        assert answer.status_code == 409 and "***" in answer.text
        assert not _leaks(answer.text)
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while "reload failed" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    text = log.read_text()
    assert "***" in text and not _leaks(text), text[-2000:]


def _mlflow_client(store: str):
    import mlflow

    mlflow.set_tracking_uri(store)
    return mlflow.MlflowClient()


def _register(artifact: Path, store: str) -> None:
    client = _mlflow_client(store)
    client.create_registered_model("lead-scorer")
    version = client.create_model_version("lead-scorer", source=str(artifact))
    client.set_registered_model_alias("lead-scorer", "champion", version.version)
