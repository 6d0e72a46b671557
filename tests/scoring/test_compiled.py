"""Compiled inference: it must give LightGBM's own probabilities, and give way when it cannot."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadscore.data.files import file_sha256
from leadscore.scoring.artifact import bundle_path, load_scorer
from leadscore.scoring.bundle import COMPILED_DIR
from leadscore.scoring.compiled import (
    INFO_FILE,
    OBJECT_FILE,
    TOLERANCE,
    BoosterPredictor,
    CompiledPredictor,
    compile_booster,
    load_predictor,
)

# an ELF header whose class byte LLVM rejects with "Invalid ELF class", aborting the process
BROKEN_ELF = b"\x7fELF" + bytes(4096)


@pytest.mark.slow
def test_compiled_and_plain_inference_agree_on_the_demo_held_out_leads(project):
    root = project[0]
    scorer = load_scorer(root / "models/lead_scorer")
    assert isinstance(
        scorer.predictor, CompiledPredictor
    )  # export compiled it and the check passed
    features = pd.read_parquet(root / "data/processed/features.parquet")
    held_out = features[features["split"] == "test"]
    encoded = scorer.encoder.transform(held_out)
    matrix = scorer.encoder.matrix(held_out)
    plain = scorer.booster.predict(encoded)  # LightGBM's own handling of the category frame
    assert np.array_equal(scorer.booster.predict(matrix), plain)  # the matrix is faithful
    assert len(held_out) > 500
    assert np.max(np.abs(scorer.predictor.predict(matrix) - plain)) <= TOLERANCE


@pytest.fixture(scope="module")
def forests(tmp_path_factory) -> tuple[Path, Path, np.ndarray]:
    """Two small real models trained on the same rows (with missing values and a category)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 3] = rng.integers(0, 5, len(x))
    y = (np.nan_to_num(x[:, 0]) + (x[:, 3] == 2) + rng.normal(size=len(x)) > 0.5).astype(int)
    folder = tmp_path_factory.mktemp("forests")
    paths = []
    for seed, rounds in ((1, 30), (2, 31)):
        data = lgb.Dataset(x, y, categorical_feature=[3])
        params = {"objective": "binary", "num_leaves": 4, "verbose": -1, "seed": seed}
        path = folder / f"model{seed}.txt"
        lgb.train(params, data, num_boost_round=rounds).save_model(path)
        paths.append(path)
    return paths[0], paths[1], x[:200]


def test_a_bundle_loads_its_checked_compiled_model(forests, tmp_path):
    model_file, _, sample = forests
    compile_booster(model_file, sample, out_dir=tmp_path / COMPILED_DIR)
    booster = lgb.Booster(model_file=str(model_file))
    model = load_predictor(tmp_path, booster, model_file)
    assert isinstance(model, CompiledPredictor)
    assert np.max(np.abs(model.predict(sample) - booster.predict(sample))) <= TOLERANCE


def _plant(folder: Path, code: bytes, *, record: bool) -> None:
    """Replace the compiled object code with ``code``; ``record``: rewrite its recorded SHA-256
    too, as a consistent (or forged) export would."""
    (folder / OBJECT_FILE).write_bytes(code)
    if record:
        info = json.loads((folder / INFO_FILE).read_text())
        info["object_sha256"] = file_sha256(folder / OBJECT_FILE)
        (folder / INFO_FILE).write_text(json.dumps(info))


def test_object_code_that_is_not_the_exported_one_never_runs(forests, tmp_path):
    """Code LLVM cannot even relocate would abort this process if it were loaded: the hash
    check refuses it first."""
    model_file, _, sample = forests
    compile_booster(model_file, sample, out_dir=tmp_path / COMPILED_DIR)
    _plant(tmp_path / COMPILED_DIR, BROKEN_ELF, record=False)
    with pytest.warns(UserWarning, match="not the object code export built"):
        model = load_predictor(tmp_path, lgb.Booster(model_file=str(model_file)), model_file)
    assert isinstance(model, BoosterPredictor)


def test_object_code_that_aborts_on_loading_falls_back_instead_of_ending_the_process(
    forests, tmp_path
):
    model_file, _, sample = forests
    compile_booster(model_file, sample, out_dir=tmp_path / COMPILED_DIR)
    _plant(tmp_path / COMPILED_DIR, BROKEN_ELF, record=True)
    booster = lgb.Booster(model_file=str(model_file))
    with pytest.warns(UserWarning, match=r"killed a check process \(signal 6\)"):
        model = load_predictor(tmp_path, booster, model_file)
    assert isinstance(model, BoosterPredictor)
    assert np.array_equal(model.predict(sample), booster.predict(sample))


def test_a_compiled_model_that_disagrees_is_not_used(forests, tmp_path):
    model_file, other_file, sample = forests
    compile_booster(model_file, sample, out_dir=tmp_path / COMPILED_DIR)
    wrong = tmp_path / "wrong"
    compile_booster(other_file, sample, out_dir=wrong)  # object code of another forest
    _plant(tmp_path / COMPILED_DIR, (wrong / OBJECT_FILE).read_bytes(), record=True)
    with pytest.warns(UserWarning, match="differs from the Booster"):
        model = load_predictor(tmp_path, lgb.Booster(model_file=str(model_file)), model_file)
    assert isinstance(model, BoosterPredictor)


def test_a_compiled_model_of_another_model_file_is_not_used(forests, tmp_path):
    model_file, other_file, sample = forests
    compile_booster(other_file, sample, out_dir=tmp_path / COMPILED_DIR)
    with pytest.warns(UserWarning, match="another model.txt"):
        model = load_predictor(tmp_path, lgb.Booster(model_file=str(model_file)), model_file)
    assert isinstance(model, BoosterPredictor)


def test_a_missing_object_file_falls_back_to_the_booster(forests, tmp_path):
    model_file, _, sample = forests
    compile_booster(model_file, sample, out_dir=tmp_path / COMPILED_DIR)
    (tmp_path / COMPILED_DIR / OBJECT_FILE).unlink()
    booster = lgb.Booster(model_file=str(model_file))
    with pytest.warns(UserWarning, match="compiled model not used"):
        model = load_predictor(tmp_path, booster, model_file)
    assert isinstance(model, BoosterPredictor)
    assert np.array_equal(model.predict(sample), booster.predict(sample))


@pytest.mark.slow
def test_the_exported_artifact_records_what_it_was_compiled_for(project):
    compiled = bundle_path(project[0] / "models/lead_scorer") / COMPILED_DIR
    assert (compiled / OBJECT_FILE).stat().st_size > 0
    assert '"target_cpu": "generic"' in (compiled / INFO_FILE).read_text()
