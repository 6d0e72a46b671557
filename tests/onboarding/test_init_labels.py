"""`leadscore init` and the label (issue 31): a table with no usable label, or a label of one
class, gets a config with a TODO instead of a crash; outcome columns under common names are
found; and the label, its date and the outcomes' columns never become features, id parts or
fit-rule fields."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore.config import load_params
from support import BIN, run

pytestmark = pytest.mark.slow
ROWS = 400


@pytest.fixture(scope="module")
def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}


def leads(n: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """A lead export with a date and fit columns whose conversion differs, and no label."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) * 7, unit="h")
    return pd.DataFrame(
        {
            "Created": created.strftime("%Y-%m-%d %H:%M"),
            "Segment": rng.choice(["Director", "Analyst", "Manager"], n),
            "Industry": rng.choice(["Retail", "Finance"], n),
            "Newsletter": rng.choice(["Yes", "No"], n),
        }
    )


def with_label(frame: pd.DataFrame, name: str, yes: str, no: str, seed: int = 1) -> pd.DataFrame:
    """``frame`` with an outcome that depends on the job title (so fit rules get points)."""
    rng = np.random.default_rng(seed)
    rate = frame["Segment"].map({"Director": 0.6, "Manager": 0.3, "Analyst": 0.1})
    won = rng.random(len(frame)) < rate.to_numpy()
    return frame.assign(**{name: np.where(won, yes, no)})


def init(root: Path, env: dict, frame: pd.DataFrame, *extra: str) -> tuple[str, dict, dict]:
    """Run `leadscore init` on ``frame`` as a CSV; the params text, its parsed form and the
    fit rules."""
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "leads.csv", index=False)
    run(["leadscore", "init", "--name", "crm", "--leads", "leads.csv", *extra], root, env)
    text = (root / "config/crm/params.yaml").read_text()
    load_params(root / "config/crm/params.yaml")  # the written config loads
    fit = yaml.safe_load((root / "config/crm/fit_rules.yaml").read_text())
    return text, yaml.safe_load(text), fit


def todos(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("# TODO:")]


def used_columns(params: dict, fit: dict) -> set[str]:
    """Every column the proposal uses as a feature, an id part or a fit-rule field."""
    schema = params["schema"]
    declared = {
        name: column
        for kind in ("form", "categorical", "numeric", "engagement_columns")
        for name, column in schema.get(kind, {}).items()
    }
    fields = {declared[r["field"]] for r in fit["rules"]}
    return {*declared.values(), *schema.get("id_from", []), *fields}


def test_a_dated_table_without_a_label_gets_a_todo_naming_the_candidates(env, tmp_path):
    text, params, _ = init(tmp_path, env, leads())
    assert "converted" not in params["schema"]["leads"]
    [todo] = [t for t in todos(text) if "label" in t]
    assert "schema.leads.converted" in todo and "'Newsletter'" in todo, todo
    assert "Newsletter" not in params["schema"].get("id_from", [])  # a possible label


@pytest.mark.parametrize("value", ["Yes", "No"])
def test_a_label_of_one_class_is_a_cold_start_todo(env, tmp_path, value):
    frame = leads().assign(Converted=value)
    text, params, fit = init(tmp_path, env, frame)
    assert params["schema"]["leads"]["converted"] == "Converted"
    assert value in [*params["schema"]["label"]["positive"], *params["schema"]["label"]["negative"]]
    [todo] = [t for t in todos(text) if "'Converted'" in t]
    assert "cold start" in todo and f"'{value}'" in todo, todo
    assert "Converted" not in used_columns(params, fit)


@pytest.mark.parametrize(
    ("name", "yes", "no"),
    [
        ("y", "yes", "no"),
        ("Revenue", "TRUE", "FALSE"),
        ("target", "1", "0"),
        ("Outcome", "Won", "Lost"),
        ("Signed", "Y", "N"),
        ("Closed Won", "true", "false"),
        ("Purchase", "Yes", "No"),
        ("is_customer", "True", "False"),
    ],
)
def test_an_outcome_under_a_common_name_is_the_label_and_nothing_else(env, tmp_path, name, yes, no):
    frame = with_label(leads().drop(columns="Newsletter"), name, yes, no)
    _, params, fit = init(tmp_path, env, frame)
    schema = params["schema"]
    assert schema["leads"]["converted"] == name
    assert schema["label"] == {"positive": [yes], "negative": [no]}
    assert name not in used_columns(params, fit)
    assert fit["rules"] and any(p != 0 for r in fit["rules"] for p in r["points"].values())


def test_no_id_column_hashes_neither_the_label_nor_its_date(env, tmp_path):
    frame = with_label(leads(), "y", "yes", "no")
    frame["Won On"] = np.where(frame["y"] == "yes", frame["Created"], None)
    _, params, fit = init(tmp_path, env, frame)
    assert params["schema"]["leads"]["converted_at"] == "Won On"
    assert not {"y", "Won On"} & used_columns(params, fit)
    assert params["schema"]["id_from"]


def test_columns_of_the_outcomes_table_are_never_features_of_the_leads(env, tmp_path):
    frame = leads().assign(**{"Lead ID": [f"L{i}" for i in range(ROWS)]})
    frame["Deal Amount"] = np.where(np.arange(ROWS) % 3 == 0, "1000", "0")
    deals = pd.DataFrame(
        {"Lead ID": frame["Lead ID"][::3], "Deal Amount": "1000", "Closed": "2024-06-01"}
    )
    deals.to_csv(tmp_path / "deals.csv", index=False)
    tmp_path.mkdir(exist_ok=True)
    _, params, fit = init(
        tmp_path, env, frame, "--outcomes", "deals.csv", "--outcome-key", "Lead ID"
    )
    assert params["schema"]["outcomes"]["key"] == "Lead ID"
    assert "Deal Amount" not in used_columns(params, fit)


def test_init_reports_the_todo_on_its_output(env, tmp_path):
    (tmp_path / "p").mkdir()
    leads().to_csv(tmp_path / "p/leads.csv", index=False)
    shown = run(["leadscore", "init", "--name", "crm", "--leads", "leads.csv"], tmp_path / "p", env)
    answer = json.loads(shown.stdout[shown.stdout.index("{") :])
    assert any("schema.leads.converted" in t for t in answer["todo"])
