"""What export writes into the artifact, on its own (the e2e tests load the real one): the
input contract, the signature, the example, the requirements."""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.types.schema import AnyType, DataType

import leadscore
from leadscore.config import Params, SchemaConfig
from leadscore.data.files import file_sha256, write_json
from leadscore.errors import ConfigError
from leadscore.scoring.artifact import BUNDLE
from leadscore.scoring.bundle import FEATURES_FILE
from leadscore.scoring.contract import input_schema, lead_columns
from leadscore.scoring.packaging import (
    bundle_schema,
    git_commit,
    metadata,
    pyfunc_code,
    pyfunc_spec,
)
from leadscore.scoring.signature import input_example, model_signature

X_SCHEMA = SchemaConfig(
    leads={"lead_id": "Prospect ID", "email": "Email", "converted": "Converted"},
    categorical={"lead_origin": "Lead Origin"},
    engagement_columns=["TotalVisits"],
    order_by="Lead Number",
)


def test_the_input_schema_lists_the_user_s_columns_without_labels():
    columns = {c["column"]: c for c in input_schema(X_SCHEMA)["leads"]}
    assert set(columns) == {"Prospect ID", "Email", "Lead Origin", "TotalVisits", "Lead Number"}
    assert columns["Prospect ID"]["required"] and columns["Email"]["personal"]
    assert columns["TotalVisits"] == {
        "column": "TotalVisits", "role": "engagement_count", "type": "number",
        "required": False, "personal": False,
    }  # fmt: skip
    assert columns["Lead Origin"]["type"] == "text" and not columns["Lead Origin"]["required"]
    events = {c["role"]: c for c in input_schema(X_SCHEMA)["events"]}
    assert events["ts"]["type"] == "timestamp" and not events["page"]["required"]


def test_a_lead_column_named_like_a_request_field_is_refused():
    with pytest.raises(ConfigError, match="as_of"):
        lead_columns(SchemaConfig(leads={"lead_id": "id", "source": "as_of"}))


def test_the_signature_states_the_contract_in_the_user_s_names():
    inputs = {c.name: c for c in model_signature(X_SCHEMA).inputs.inputs}
    assert set(inputs) == {
        "Prospect ID", "Email", "Lead Origin", "TotalVisits", "Lead Number", "as_of", "events"
    }  # fmt: skip
    assert [n for n, c in inputs.items() if c.required] == ["Prospect ID"]
    assert isinstance(inputs["TotalVisits"].type, AnyType)  # whole numbers too
    assert inputs["Email"].type == DataType.string
    event = inputs["events"].type.dtype  # an array of event records
    assert {p.name: p.required for p in event.properties} == {
        "ts": True, "event_type": True, "page": False
    }  # fmt: skip
    demo = {c.name: c for c in model_signature(SchemaConfig()).inputs.inputs}
    assert demo["created_at"].required and isinstance(demo["created_at"].type, AnyType)


def test_the_example_is_a_held_out_lead_with_events_and_no_personal_data():
    schema = SchemaConfig(leads={"lead_id": "Lead", "email": "Mail", "created_at": "Created",
                                 "source": "Channel"})  # fmt: skip
    moment = pd.Timestamp("2026-01-10", tz="UTC")
    features = pd.DataFrame({
        "lead_id": ["A", "B", "C"], "as_of": [moment] * 3, "split": ["train", "test", "test"],
    })  # fmt: skip
    leads = pd.DataFrame({
        "lead_id": ["A", "B", "C"], "email": ["a@x.com", "b@x.com", "c@x.com"],
        "created_at": [moment - pd.Timedelta(days=1)] * 3, "source": ["ads", "seo", None],
    })  # fmt: skip
    ts = [moment - pd.Timedelta(hours=h) for h in (1, 2, 3, 4, -5)]
    events = pd.DataFrame({
        "lead_id": ["A", "C", "C", "C", "C"], "ts": ts, "event_type": ["page_view"] * 5,
        "page": ["/", None, "/p", "/q", "/late"],
    })  # fmt: skip
    example = input_example(schema, features, leads, events)
    row = example.iloc[0].to_dict()
    assert row["Lead"] == "C" and "Mail" not in row  # held out, about three events, no e-mail
    assert row["Created"] == "2026-01-09T00:00:00Z" and row["as_of"] == "2026-01-10T00:00:00Z"
    assert row["Channel"] is None
    assert row["events"] == [
        {"ts": "2026-01-09T22:00:00Z", "event_type": "page_view", "page": None},
        {"ts": "2026-01-09T21:00:00Z", "event_type": "page_view", "page": "/p"},
        {"ts": "2026-01-09T20:00:00Z", "event_type": "page_view", "page": "/q"},
    ]  # the event after the moment is not in it


def test_the_pyfunc_spec_holds_code_not_a_pickle_and_pins_leadscore_s_own_requirements(
    tmp_path,
):
    write_json({"schema": X_SCHEMA.model_dump(by_alias=True)}, tmp_path / FEATURES_FILE)
    spec = pyfunc_spec(tmp_path)
    assert spec["python_model"] == pyfunc_code() and pyfunc_code().endswith("pyfunc_model.py")
    assert spec["artifacts"] == {BUNDLE: str(tmp_path)}
    assert Path(spec["code_paths"][0]) == Path(leadscore.__file__).parent
    pinned = {r.split("==")[0]: r.split("==")[1] for r in spec["pip_requirements"]}
    assert pinned["lightgbm"] == version("lightgbm") and "mlflow-skinny" in pinned
    assert not {"dvc", "optuna", "matplotlib", "dask[distributed]", "fastapi"} & set(pinned)
    assert spec["signature"] == model_signature(bundle_schema(tmp_path))
    assert bundle_schema(tmp_path) == X_SCHEMA


def test_metadata_names_the_run_the_data_and_the_settings(tmp_path):
    data = tmp_path / "features.parquet"
    data.write_bytes(b"some rows")
    fingerprint = file_sha256(data)
    assert fingerprint == hashlib.sha256(b"some rows").hexdigest()
    got = metadata(Params(), run_id="0123456789abcdef", fingerprint=fingerprint,
                   metrics={"roc_auc": 0.8}, compiled={}, files={})  # fmt: skip
    assert got["model_version"] == f"0123456789ab-{fingerprint[:8]}"
    assert got["params"]["schema"]["leads"]["lead_id"] == "lead_id"  # by alias, as in YAML
    assert yaml.safe_load(yaml.safe_dump(got["params"])) == got["params"]  # plain values
    assert got["git_commit"] == git_commit() != ""


def test_an_artifact_exported_before_the_pyfunc_class_moved_still_finds_it():
    """Such an artifact's pyfunc_model.py imports PyfuncScorer from leadscore.scoring.artifact;
    scoring a local artifact must not import MLflow, so the class lives elsewhere now."""
    from leadscore.scoring import artifact, pyfunc_scorer

    assert artifact.PyfuncScorer is pyfunc_scorer.PyfuncScorer
    with pytest.raises(AttributeError):
        artifact.NoSuchThing  # noqa: B018
