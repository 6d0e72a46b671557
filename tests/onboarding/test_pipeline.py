"""The pipeline `leadscore init` writes runs the demo's stages the way the demo's dvc.yaml runs
them: the same options, outputs (and what DVC caches), metrics, plots and parameters, so a
change to a stage in one place that the other misses fails here."""

from __future__ import annotations

import re

import pytest

from dependencies import load_stages
from leadscore.onboarding.pipeline import pipeline_stages
from support import REPO

SHARED = ("validate", "featurize", "train", "calibrate", "evaluate", "export", "report")
DEMO_ONLY_OPTIONS = {"--truth"}  # the generator's exact probabilities


@pytest.fixture(scope="module")
def stages() -> tuple[dict, dict]:
    folder = REPO / "pipelines" / "crm"
    written = pipeline_stages(
        {"leads": "leads.csv", "events": "events.csv"},
        folder=folder,
        params=REPO / "config/crm/params.yaml",
        fit_rules=REPO / "config/crm/fit_rules.yaml",
        local={"leads": folder / "leads.csv", "events": folder / "events.csv"},
    )
    return written, load_stages(REPO / "dvc.yaml")


def _options(cmd: str) -> set[str]:
    return set(re.findall(r"--[a-z-]+", cmd)) - {"--params"} - DEMO_ONLY_OPTIONS


def _entries(entries: list) -> dict[str, object]:
    """Outputs, metrics or plots by path, with their settings (none: cached by DVC)."""
    out: dict[str, object] = {}
    for entry in entries:
        out |= entry if isinstance(entry, dict) else {entry: None}
    return out


def _data_deps(stage: dict) -> set[str]:
    return {d for d in stage.get("deps", []) if "src/leadscore" not in d and "config/" not in d}


def _params(stage: dict) -> set[str]:
    keys: set[str] = set()
    for entry in stage.get("params", []):
        keys |= set(next(iter(entry.values()))) if isinstance(entry, dict) else {entry}
    return keys


@pytest.mark.parametrize("name", SHARED)
def test_each_stage_runs_as_the_demo_runs_it(stages, name):
    written, demo = (s[name] for s in stages)
    assert _options(written["cmd"]) == _options(demo["cmd"])
    for kind in ("outs", "metrics", "plots"):
        assert _entries(written.get(kind, [])) == _entries(demo.get(kind, [])), kind
    truth = {"data/raw/truth.parquet"}
    assert _data_deps(written) == _data_deps(demo) - truth
    assert _params(written) >= _params(demo) - {"generate"}
