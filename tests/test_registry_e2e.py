"""The registry is the source of truth: export -> promote -> the nightly job and a running API
follow the champion alias, and the API switches models while clients keep getting answers.

Works on a copy of the pipeline project, with its own MLflow store: it registers new versions.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import requests
import yaml

from keep_alive import http_post, keep_alive_clients
from support import free_port, run, serving

pytestmark = pytest.mark.slow

AS_OF = "2026-10-01T00:00:00Z"
ADMIN = {"X-Admin-Key": "admin-secret"}


@pytest.fixture(scope="module")
def registry(project, tmp_path_factory) -> tuple[Path, dict, dict[str, str], dict]:
    """A copy of the project with two registered versions: the pipeline's (v1, champion) and a
    weaker retraining (v2, candidate). Yields the folder, its environment, each version's
    model_version as the scores table names it, and a request body."""
    shared, env = project
    root = tmp_path_factory.mktemp("registry") / "project"
    shutil.copytree(shared, root)
    env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    versions = {"1": json.loads((root / "data/model/metadata.json").read_text())["model_version"]}
    assert json.loads(run(["leadscore", "promote"], root, env).stdout)["promoted"]
    weak = yaml.safe_load((root / "params.yaml").read_text())
    weak["train"] |= {"max_rounds": 3, "tuning_trials": 0}
    (root / "weak.yaml").write_text(yaml.safe_dump(weak))
    for verb in ("train", "calibrate", "export"):
        run(["leadscore", verb, "--params", "weak.yaml"], root, env)
    versions["2"] = json.loads((root / "data/model/metadata.json").read_text())["model_version"]
    assert versions["1"] != versions["2"]
    leads = pd.read_parquet(root / "data/raw/leads.parquet").drop(
        columns=["converted", "converted_at"]
    )
    lead = json.loads(leads.iloc[[7]].to_json(orient="records", date_format="iso"))[0]
    body = {"lead": lead, "events": [], "as_of": AS_OF}
    return root, env | {"LEADSCORE_ADMIN_KEY": ADMIN["X-Admin-Key"]}, versions, body


def _score(root: Path, env: dict, model: str, out: str) -> dict:
    """A night with a registry model, as a scheduler runs it: stdout is one JSON line (JSON
    Lines when appended to a file), and under --log-format json so is every line on stderr,
    MLflow's included (no progress bar, no handler of its own)."""
    argv = ["leadscore", "--log-format", "json", "score", "--model", model, "--leads",
            "tonight.parquet", "--out", out, "--as-of", AS_OF]  # fmt: skip
    done = run(argv, root, env)
    assert len(done.stdout.splitlines()) == 1
    for line in done.stderr.splitlines():
        json.loads(line)
    return json.loads(done.stdout)


def test_the_nightly_job_scores_with_the_version_promoted_last(registry):
    root, env, versions, _ = registry
    promoted = run(["leadscore", "promote", "--model", "models:/lead-scorer/2", "--force"],
                   root, env)  # fmt: skip
    assert json.loads(promoted.stdout)["candidate"] == "2"
    pd.read_parquet(root / "data/raw/leads.parquet").head(50).drop(
        columns=["converted", "converted_at"]
    ).to_parquet(root / "tonight.parquet")
    done = _score(root, env, "models:/lead-scorer@champion", "champion_scores.parquet")
    assert done["model"] == "models:/lead-scorer@champion (version 2)"
    assert (done["scored"], done["kept_from_earlier_runs"]) == (50, 0)
    scored = pd.read_parquet(root / "champion_scores.parquet")["model_version"]
    assert set(scored) == {versions["2"]}
    again = _score(root, env, "models:/lead-scorer/1", "version_1_scores.parquet")
    assert again["model"] == "models:/lead-scorer/1 (version 1)"
    assert set(pd.read_parquet(root / "version_1_scores.parquet")["model_version"]) == {
        versions["1"]
    }


@contextmanager
def _clients(url: str, body: dict, n: int = 4) -> Iterator[list[list[tuple[int, str]]]]:
    """``n`` clients, each on its own keep-alive connection, posting ``body`` without pause
    until the block ends; yields each client's (status, model_version) answers."""
    stop = threading.Event()
    answers: list[list[tuple[int, str]]] = [[] for _ in range(n)]

    def client(seen: list[tuple[int, str]]) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                answer = session.post(f"{url}/score", json=body, timeout=60)
                seen.append((answer.status_code, answer.json().get("model_version", "")))

    threads = [threading.Thread(target=client, args=(seen,)) for seen in answers]
    for thread in threads:
        thread.start()
    try:
        yield answers
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)


def _switch_under_load(url: str, body: dict, switch: Callable[[], None], old: str, new: str):
    """Clients keep posting while ``switch`` runs; every answer is a 200, from the old model
    until the switch and from the new one after, for every client."""
    with _clients(url, body) as answers:
        time.sleep(2)
        switch()
        deadline = time.monotonic() + 120
        while requests.get(f"{url}/health", timeout=10).json()["model_version"] != new:
            assert time.monotonic() < deadline, "the server did not switch"
            time.sleep(0.2)
        time.sleep(2)
    for seen in answers:
        assert seen and {status for status, _ in seen} == {200}, seen[-3:]
        served = [version for _, version in seen]
        assert served[0] == old and served[-1] == new
        switched_at = served.index(new)
        assert set(served[switched_at:]) == {new}  # never back to the old model
    return sum(len(seen) for seen in answers)


def test_a_running_server_follows_the_champion_without_dropping_a_request(registry):
    root, env, versions, body = registry
    run(["leadscore", "promote", "--model", "models:/lead-scorer/1", "--force"], root, env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["leadscore", "serve", "--model", "models:/lead-scorer@champion", "--port", str(port),
            "--insecure-no-auth"]  # fmt: skip
    with serving(argv, root, env, port) as process:
        assert requests.get(f"{url}/health", timeout=10).json()["model_version"] == versions["1"]
        assert requests.post(f"{url}/admin/reload", timeout=30).status_code == 401
        run(["leadscore", "promote", "--model", "models:/lead-scorer/2", "--force"], root, env)

        def admin_call() -> None:
            answer = requests.post(f"{url}/admin/reload", headers=ADMIN, timeout=120)
            assert answer.status_code == 200 and answer.json()["model_version"] == versions["2"]

        served = _switch_under_load(url, body, admin_call, versions["1"], versions["2"])
        run(["leadscore", "promote", "--model", "models:/lead-scorer/1", "--force"], root, env)
        served += _switch_under_load(
            url, body, lambda: process.send_signal(signal.SIGHUP),
            versions["2"], versions["1"],
        )  # fmt: skip
    assert served > 100


def test_workers_reload_on_sighup_without_losing_a_request(registry):
    """Issue 34: SIGHUP made ``serve --workers 2`` replace its workers, and a retired worker
    closed keep-alive connections a client had just sent a request on: 26 connection resets of
    6,418 requests from 20 clients. Now each worker loads the model anew in place, as one
    server does, and no connection is closed."""
    root, env, versions, body = registry
    run(["leadscore", "promote", "--model", "models:/lead-scorer/2", "--force"], root, env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["leadscore", "serve", "--model", "models:/lead-scorer@champion", "--port", str(port),
            "--workers", "2", "--insecure-no-auth"]  # fmt: skip
    request = http_post("/score", body, {})
    with (
        serving(argv, root, env, port) as process,
        keep_alive_clients(url, request, clients=20) as answers,
    ):
        for version in ("1", "2"):
            run(["leadscore", "promote", "--model", f"models:/lead-scorer/{version}", "--force"],
                root, env)  # fmt: skip
            process.send_signal(signal.SIGHUP)
            _wait_until_every_worker_serves(url, versions[version])
    served = {(200, versions["1"]), (200, versions["2"])}
    assert set(answers) == served and answers.total() > 100, answers  # no error, no other status


def _wait_until_every_worker_serves(url: str, version: str) -> None:
    """Until 20 fresh connections in a row (spread over the workers) answer with ``version``."""
    deadline, fresh = time.monotonic() + 180, 0
    while fresh < 20:
        assert time.monotonic() < deadline, "the workers did not switch"
        answer = requests.get(f"{url}/health", timeout=10).json()["model_version"]
        fresh = fresh + 1 if answer == version else 0
        time.sleep(0.1)


def test_the_app_factory_serves_the_champion(registry):
    root, env, _, body = registry
    port = free_port()
    factory = ["uvicorn", "--factory", "leadscore.api:create_app", "--port", str(port)]
    factory_env = {"LEADSCORE_MODEL": "models/lead_scorer", "LEADSCORE_INSECURE_NO_AUTH": "1"}
    with serving(factory, root, env | factory_env, port):
        answer = requests.post(f"http://127.0.0.1:{port}/score", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
