"""Shared fixtures: a small seeded demo data set, and one real pipeline run for the e2e tests."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from leadscore.config import GenerateConfig, Params
from leadscore.data.validation import validate_events, validate_leads
from leadscore.generate import DemoData, generate_demo
from support import BIN, REPO, postgres_url, run, table_uri


@pytest.fixture(scope="session")
def demo() -> DemoData:
    return generate_demo(GenerateConfig(n_leads=3000, seed=7))


@pytest.fixture(scope="session")
def params() -> Params:
    return Params()


@pytest.fixture(scope="session")
def clean(demo: DemoData, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo leads and events after validation: canonical columns, parsed timestamps."""
    now = pd.Timestamp("2026-11-01", tz="UTC")
    leads = validate_leads(
        demo.leads, schema=params.schema_, now=now, future_tolerance_hours=24
    ).valid
    events = validate_events(
        demo.events, leads["lead_id"], schema=params.schema_, now=now, future_tolerance_hours=24
    ).valid
    return leads, events


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> tuple[Path, dict]:
    """`dvc repro` of the real pipeline on 4,000 generated leads in a temporary folder.

    Shared by every end-to-end module; a test that changes the project works on a copy. To
    iterate on a test, point ``LEADSCORE_E2E_PROJECT`` at a folder this fixture built before
    (a copy of ``pipeline0`` under pytest's temporary folder) and the repro is skipped.
    """
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
    }
    if "LEADSCORE_E2E_PROJECT" in os.environ:
        root = Path(os.environ["LEADSCORE_E2E_PROJECT"])
        return root, {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    root = tmp_path_factory.mktemp("pipeline")
    for name in ("dvc.yaml", "config", "src"):
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, root / name)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["generate"]["n_leads"] = 4000
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    run(["dvc", "init", "--no-scm", "-q"], root, env)
    run(["dvc", "repro"], root, env)
    return root, env


@pytest.fixture
def output_uri(tmp_path) -> Iterator[Callable[[str, str], str]]:
    """A table URI of one of ``support.OUTPUT_KINDS`` in ``tmp_path``, by kind and name.

    PostgreSQL tables get unique names, and they and their siblings (quarantine, staging) are
    dropped afterwards.
    """
    created: list[str] = []

    def make(kind: str, name: str) -> str:
        if kind != "postgresql":
            return table_uri(kind, tmp_path, name)
        table = f"{name}_{uuid.uuid4().hex[:8]}"
        created.extend([table, f"{table}_quarantine", f"{table}__staging"])
        return f"{postgres_url()}#{table}"

    yield make
    if created:
        with sa.create_engine(postgres_url()).begin() as conn:
            for table in created:
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
