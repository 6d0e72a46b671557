"""What export writes into the artifact, on its own (the e2e tests load the real one)."""

from __future__ import annotations

import hashlib

import yaml

from leadscore.config import Params, SchemaConfig
from leadscore.scoring.artifact import BUNDLE
from leadscore.scoring.packaging import (
    file_fingerprint,
    git_commit,
    input_schema,
    metadata,
    pyfunc_code,
    pyfunc_spec,
)


def test_the_input_schema_lists_the_user_s_columns_without_labels():
    schema = SchemaConfig(
        leads={"lead_id": "Prospect ID", "email": "Email", "converted": "Converted"},
        engagement_columns=["TotalVisits"],
    )
    columns = {c["column"]: c for c in input_schema(schema)["leads"]}
    assert set(columns) == {"Prospect ID", "Email", "TotalVisits"}
    assert columns["Prospect ID"]["required"] and columns["Email"]["personal"]
    assert columns["TotalVisits"] == {
        "column": "TotalVisits", "role": "engagement_count", "type": "number",
        "required": True, "personal": False,
    }  # fmt: skip
    events = {c["role"]: c for c in input_schema(schema)["events"]}
    assert events["ts"]["type"] == "timestamp" and not events["page"]["required"]


def test_the_pyfunc_spec_holds_code_not_a_pickle_and_pins_the_libraries(tmp_path):
    spec = pyfunc_spec(tmp_path, {"leadscore": "0.1.0", "lightgbm": "4.6.0", "lleaves": None})
    assert spec["python_model"] == pyfunc_code() and pyfunc_code().endswith("pyfunc_model.py")
    assert spec["artifacts"] == {BUNDLE: str(tmp_path)}
    assert spec["pip_requirements"] == ["lightgbm==4.6.0"]


def test_metadata_names_the_run_the_data_and_the_settings(tmp_path):
    data = tmp_path / "features.parquet"
    data.write_bytes(b"some rows")
    fingerprint = file_fingerprint(data)
    assert fingerprint == hashlib.sha256(b"some rows").hexdigest()
    got = metadata(Params(), run_id="0123456789abcdef", fingerprint=fingerprint,
                   metrics={"roc_auc": 0.8}, compiled={})  # fmt: skip
    assert got["model_version"] == f"0123456789ab-{fingerprint[:8]}"
    assert got["params"]["schema"]["leads"]["lead_id"] == "lead_id"  # by alias, as in YAML
    assert yaml.safe_load(yaml.safe_dump(got["params"])) == got["params"]  # plain values
    assert got["git_commit"] == git_commit() != ""
