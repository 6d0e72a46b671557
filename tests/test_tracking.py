"""MLflow bookkeeping helpers that need no tracking server."""

from __future__ import annotations

from leadscore.tracking import dvc_experiment_tags, dvc_lock_tags, flatten


def test_nested_settings_become_dotted_parameters():
    assert flatten("train", {"seed": 1, "search": {"trials": 3}}) == {
        "train.seed": 1,
        "train.search.trials": 3,
    }
    assert flatten("", {"a": {"b": 2}}) == {"a.b": 2}


def test_every_output_hash_of_the_lock_file_becomes_a_tag(tmp_path):
    lock = tmp_path / "dvc.lock"
    lock.write_text(
        "schema: '2.0'\nstages:\n  train:\n    outs:\n    - path: data/model/model.txt\n"
        "      md5: abc\n    - path: data/model/run.json\n      md5: def\n"
    )
    assert dvc_lock_tags(lock) == {
        "dvc.data/model/model.txt": "abc",
        "dvc.data/model/run.json": "def",
    }
    assert dvc_lock_tags(tmp_path / "missing.lock") == {}


def test_a_run_under_dvc_exp_run_is_tagged_with_its_experiment():
    environ = {"DVC_EXP_NAME": "urban-sign", "DVC_EXP_BASELINE_REV": "9f80bfa", "DVC_ROOT": "/r"}
    assert dvc_experiment_tags(environ) == {
        "dvc_experiment": "urban-sign",
        "dvc_baseline_rev": "9f80bfa",
    }
    assert dvc_experiment_tags({"DVC_ROOT": "/r", "DVC_STAGE": "train"}) == {}  # dvc repro
