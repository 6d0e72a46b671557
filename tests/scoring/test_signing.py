"""With a signing key, a model is scored only as its key holder exported it: a planted object
file that comes with a file list rewritten to match is refused before any of it runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from leadscore.data.files import file_sha256
from leadscore.errors import InputError
from leadscore.scoring.artifact import bundle_path
from leadscore.scoring.signing import KEY_ENV, check_signature, sign_bundle
from support import run


def _bundle(folder: Path) -> Path:
    folder.mkdir()
    (folder / "metadata.json").write_text('{"files": {"model.txt": "00"}}\n')
    return folder


def test_a_signed_bundle_passes_and_any_change_to_its_list_fails(tmp_path, monkeypatch):
    bundle = _bundle(tmp_path / "bundle")
    monkeypatch.setenv(KEY_ENV, "team key")
    assert sign_bundle(bundle)
    check_signature(bundle)
    (bundle / "metadata.json").write_text('{"files": {"model.txt": "01"}}\n')
    with pytest.raises(InputError, match="signature does not match"):
        check_signature(bundle)
    monkeypatch.setenv(KEY_ENV, "another key")
    sign_bundle(bundle)
    monkeypatch.setenv(KEY_ENV, "team key")
    with pytest.raises(InputError, match="signed with another key"):
        check_signature(bundle)


def test_without_a_key_nothing_is_signed_or_checked(tmp_path, monkeypatch):
    bundle = _bundle(tmp_path / "bundle")
    monkeypatch.setenv(KEY_ENV, "team key")
    sign_bundle(bundle)
    monkeypatch.delenv(KEY_ENV)
    assert not sign_bundle(bundle)  # a stale signature is removed, not left to mismatch
    assert not (bundle / "metadata.sig").exists()
    check_signature(bundle)
    monkeypatch.setenv(KEY_ENV, "team key")
    with pytest.raises(InputError, match="not signed"):
        check_signature(bundle)


def _forged(artifact: Path, folder: Path) -> Path:
    """A copy of the artifact with object code planted and every hash rewritten to match it."""
    copy = folder / "forged"
    shutil.copytree(artifact, copy)
    bundle = bundle_path(copy)
    (bundle / "compiled/model.o").write_bytes(b"\x7fELF" + bytes(4096))
    info = json.loads((bundle / "compiled/compiled.json").read_text())
    info["object_sha256"] = file_sha256(bundle / "compiled/model.o")
    (bundle / "compiled/compiled.json").write_text(json.dumps(info))
    metadata = json.loads((bundle / "metadata.json").read_text())
    for name in ("compiled/model.o", "compiled/compiled.json"):
        metadata["files"][name] = file_sha256(bundle / name)
    (bundle / "metadata.json").write_text(json.dumps(metadata))
    return copy


@pytest.mark.slow
def test_the_nightly_job_refuses_an_unsigned_or_forged_model_under_a_key(project, tmp_path):
    root, env = project
    signed = tmp_path / "signed"
    shutil.copytree(root / "models/lead_scorer", signed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, "team key")
        sign_bundle(bundle_path(signed))
    forged = _forged(signed, tmp_path)
    keyed = env | {KEY_ENV: "team key"}
    leads = str(root / "data/raw/leads.parquet")
    for model, key_env, code, says in (
        (root / "models/lead_scorer", keyed, 3, "not signed"),
        (forged, keyed, 3, "signature does not match"),
        (signed, keyed, 0, ""),
    ):
        argv = ["leadscore", "score", "--model", str(model), "--leads", leads, "--out",
                str(tmp_path / f"{model.name}.parquet"), "--chunk-size", "2000"]  # fmt: skip
        done = run(argv, tmp_path, key_env, check=False)
        assert done.returncode == code, (model, done.stderr[-1500:])
        assert says in done.stderr
