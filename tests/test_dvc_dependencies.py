"""Every source file a stage runs is one of its DVC dependencies, so `dvc repro` never leaves
metrics stale after a code change (see tests/dependencies.py for how the files are found)."""

from __future__ import annotations

import copy

import pytest

from dependencies import closure, load_stages, uncovered
from support import REPO

PIPELINES = [REPO / "dvc.yaml", REPO / "pipelines/x_education/dvc.yaml"]


@pytest.mark.parametrize("dvc_file", PIPELINES, ids=lambda p: str(p.relative_to(REPO)))
def test_each_stage_depends_on_every_source_file_it_runs(dvc_file):
    assert uncovered(load_stages(dvc_file), dvc_file.parent) == {}


def test_a_planted_missing_dependency_is_caught():
    stages = copy.deepcopy(load_stages(REPO / "dvc.yaml"))
    deps = stages["calibrate"]["deps"]
    deps.remove("src/leadscore/modeling/fit_score.py")
    stages["report"]["deps"].remove("src/leadscore/report")
    missing = uncovered(stages, REPO)
    assert missing["calibrate"] == ["src/leadscore/modeling/fit_score.py"]
    assert "src/leadscore/report/templates/model_report.html.j2" in missing["report"]
    assert set(missing) == {"calibrate", "report"}


def test_imports_inside_functions_named_modules_and_templates_count():
    src = REPO / "src/leadscore"
    export = closure(["leadscore.stages.export"])
    assert src / "scoring/pyfunc_model.py" in export  # named by a string, not imported
    report = closure(["leadscore.stages.report"])
    assert src / "report/templates/model_report.html.j2" in report
    verbs = closure(["leadscore.cli.pipeline"], shallow="leadscore.cli")
    assert src / "stages/train.py" not in verbs  # the CLI's lazy imports are each stage's own
    assert src / "stages/train.py" in closure(["leadscore.cli.pipeline"])
