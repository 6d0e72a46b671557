"""Three realistic CRM exports, each from `leadscore init` through `dvc repro` to a model and a
report, with no preparation script: only the edits a user makes to the generated config.

- a CSV with day-first dates, no id column (and exact duplicate rows), and a column filled in
  for some converters only (kept: the leakage audit is what should flag it);
- leads in Parquet ordered by a month name, the label in a second table with YES/NO values;
- leads in PostgreSQL with dates and no time of day, an event log in SQLite.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import sqlalchemy as sa
import yaml

from support import BIN, api_serving, run

pytestmark = pytest.mark.slow
POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
START = pd.Timestamp("2024-01-01")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def people(n: int, seed: int) -> pd.DataFrame:
    """Leads with a planted signal: seniority, company size, source and visits drive conversion."""
    rng = np.random.default_rng(seed)
    created = START + pd.to_timedelta(np.sort(rng.uniform(0, 300, n)), unit="D")
    title = rng.choice(["Director", "Manager", "Analyst", "Intern"], n, p=[0.15, 0.3, 0.4, 0.15])
    size = rng.choice(["1-10", "11-50", "51-200", "201-1000", "1000+"], n)
    source = rng.choice(["Google", "Referral", "Event", "Partner"], n)
    visits = rng.poisson(3, n)
    effect = {"Director": 1.2, "Manager": 0.6, "Analyst": 0.0, "Intern": -1.0}
    logit = (
        -1.5 + pd.Series(title).map(effect).to_numpy() + 0.3 * (size == "201-1000")
        + 0.8 * (source == "Referral") + 0.12 * visits
    )  # fmt: skip
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "created": created.floor("min"),
            "title": title,
            "size": size,
            "industry": rng.choice(["Retail", "Finance", "Software", "Health"], n),
            "country": rng.choice(["United Kingdom", "Germany", "France", "India"], n),
            "source": source,
            "visits": visits,
            "won": won,
            "won_at": (created + pd.to_timedelta(rng.uniform(1, 20, n), unit="D")).floor("min"),
            "feedback": np.where(won & (rng.random(n) < 0.4), "Great session", None),
        }
    )


@pytest.fixture(scope="module")
def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}


# What sales wants, written by a user over init's starting rules. Industry and country do not
# drive conversion in these exports, so every fit grade meets every fifth of the model's score
# in the held-out leads: this steers around the report's crash on an empty grade-by-score cell,
# which another change fixes (with its own test).
FIT_RULES = """
base: 50
grades: {A: 75, B: 60, C: 45}
rules:
  - name: target industry
    field: industry
    points: {software: 20, finance: 10, retail: 0, health: -10}
"""
COUNTRY_RULE = """
  - name: core market
    field: country
    points: {GB: 15, DE: 10, FR: 0, IN: -10}
"""


def init_and_repro(
    root: Path, env: dict, name: str, args: list[str], edit, fit_rules: str = FIT_RULES
) -> Path:
    """`leadscore init`, the user's edits to params.yaml and fit_rules.yaml, then `dvc repro`;
    the pipeline folder."""
    root.mkdir(parents=True, exist_ok=True)
    if not (root / ".dvc").exists():
        run(["dvc", "init", "--no-scm", "-q"], root, env)
    shown = run(["leadscore", "init", "--name", name, *args], root, env).stdout
    assert json.loads(shown[shown.index("{") :])["next"] == f"dvc repro pipelines/{name}/dvc.yaml"
    params_file = root / "config" / name / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["train"]["tuning_trials"] = 0
    edit(params)
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    (root / "config" / name / "fit_rules.yaml").write_text(fit_rules)
    pipeline = root / "pipelines" / name
    env = env | {"MLFLOW_TRACKING_URI": f"sqlite:///{pipeline / 'mlflow.db'}"}
    run(["dvc", "repro", f"pipelines/{name}/dvc.yaml"], root, env)
    for path in ("models/lead_scorer/MLmodel", "reports/model_report.html", "dvc.lock"):
        assert (pipeline / path).exists(), path
    return pipeline


def metrics(pipeline: Path) -> dict:
    return json.loads((pipeline / "reports/metrics.json").read_text())


@pytest.fixture(scope="module")
def day_first(tmp_path_factory, env) -> tuple[Path, pd.DataFrame]:
    truth = people(3000, seed=1)
    export = pd.DataFrame(
        {
            "Created": truth["created"].dt.strftime("%d/%m/%Y %H:%M"),
            "Job Title": truth["title"],
            "Company Size": truth["size"],
            "Industry": truth["industry"],
            "Country": truth["country"],
            "Lead Source": truth["source"],
            "Website Visits": truth["visits"].astype(str),
            "Webinar Feedback": truth["feedback"],
            "Converted": np.where(truth["won"], "1", "0"),
            "Converted On": truth["won_at"].dt.strftime("%d/%m/%Y %H:%M").where(truth["won"]),
        }
    )
    export = pd.concat([export, export.iloc[100:120]], ignore_index=True)  # 20 exact copies
    root = tmp_path_factory.mktemp("dayfirst")
    export.to_csv(root / "leads.csv", index=False)
    pipeline = init_and_repro(
        root, env, "dayfirst", ["--leads", "leads.csv"], lambda p: None, FIT_RULES + COUNTRY_RULE
    )
    return pipeline, truth


def test_day_first_dates_are_declared_by_init_and_every_date_is_right(day_first):
    pipeline, truth = day_first
    params = yaml.safe_load((pipeline.parents[1] / "config/dayfirst/params.yaml").read_text())
    assert params["schema"]["dates"]["columns"]["Created"] == {"format": "%d/%m/%Y %H:%M"}
    leads = pd.read_parquet(pipeline / "data/interim/leads.parquet")
    assert len(leads) == len(truth)  # the 20 exact copies are one lead each
    expected = truth["created"].dt.tz_localize("UTC").sort_values().tolist()
    assert leads["created_at"].sort_values().tolist() == expected
    won = leads.dropna(subset=["converted_at"])["converted_at"].sort_values()
    assert (
        won.tolist()
        == truth.loc[truth["won"], "won_at"].dt.tz_localize("UTC").sort_values().tolist()
    )


def test_no_id_column_gets_stable_ids_and_duplicates_are_quarantined(day_first):
    pipeline, _ = day_first
    validation = json.loads((pipeline / "reports/validation.json").read_text())
    assert validation["leads"]["reasons"] == {"duplicate_lead_id": 20}
    leads = pd.read_parquet(pipeline / "data/interim/leads.parquet")
    assert leads["lead_id"].str.fullmatch(r"[0-9a-f]{20}").all() and leads["lead_id"].is_unique


def test_day_first_model_learns_and_the_converter_only_column_reaches_the_audit(day_first):
    pipeline, _ = day_first
    result = metrics(pipeline)
    assert result["roc_auc"] > 0.65 and result["log_loss"] < result["base_rate"]["log_loss"]
    audit = json.loads((pipeline / "reports/leakage_audit.json").read_text())
    feedback = next(c for c in audit["columns"] if c["column"] == "Webinar Feedback")
    assert feedback["missing_rate_not_converted"] == 1.0 and feedback["missing_gap"] < -0.3
    features = pd.read_parquet(pipeline / "data/processed/features.parquet")
    assert {"hour", "is_business_hours", "weekday"} <= set(features.columns)


def test_without_the_declaration_validate_stops_naming_the_column(day_first, env):
    pipeline, _ = day_first
    root = pipeline.parents[1]
    params = yaml.safe_load((root / "config/dayfirst/params.yaml").read_text())
    del params["schema"]["dates"]
    undeclared = root / "undeclared.yaml"
    undeclared.write_text(yaml.safe_dump(params))
    done = run(
        ["leadscore", "validate", "leads.csv", "--out-dir", "tmp", "--summary", "tmp/v.json",
         "--audit", "tmp/a.json", "--params", str(undeclared)],
        root, env, check=False,
    )  # fmt: skip
    assert done.returncode == 4
    error = done.stderr.strip().splitlines()[-1]
    assert "leads column 'Created'" in error and "schema.dates.leads.format" in error
    assert re.search(r"'\d\d/\d\d/2024 \d\d:\d\d'", error)


@pytest.fixture(scope="module")
def outcomes_table(tmp_path_factory, env) -> tuple[Path, pd.DataFrame]:
    truth = people(3000, seed=2).assign(ref=lambda f: [f"R-{i:05d}" for i in range(len(f))])
    leads = pd.DataFrame(
        {
            "Lead Ref": truth["ref"],
            "Month": truth["created"].dt.month.map(lambda m: MONTHS[m - 1]),
            "Job Title": truth["title"],
            "Company Size": truth["size"],
            "Sector": truth["industry"],
            "Source": truth["source"],
            "Visits": truth["visits"],
        }
    )
    asked = truth["won"] | (np.random.default_rng(3).random(len(truth)) < 0.3)
    deals = pd.DataFrame(
        {
            "Lead Ref": truth.loc[asked, "ref"],
            "Signed": np.where(truth.loc[asked, "won"], "YES", "NO"),
            "Signed On": truth.loc[asked, "won_at"].dt.strftime("%Y-%m-%d"),
        }
    ).sample(frac=1.0, random_state=0)
    root = tmp_path_factory.mktemp("outcomes")
    leads.sample(frac=1.0, random_state=1).to_parquet(root / "leads.parquet", index=False)
    deals.to_csv(root / "deals.csv", index=False)
    args = ["--leads", "leads.parquet", "--outcomes", "deals.csv", "--outcome-key", "Lead Ref"]

    def edit(params: dict) -> None:
        params["featurize"]["test_from"] = "Sep"  # a user's "from September on"

    by_industry = FIT_RULES.replace("{A: 75, B: 60, C: 45}", "{A: 65, B: 55, C: 45}")
    return init_and_repro(root, env, "deals", args, edit, by_industry), truth


def test_label_from_a_second_table_and_windows_by_month(outcomes_table):
    pipeline, truth = outcomes_table
    schema = yaml.safe_load((pipeline.parents[1] / "config/deals/params.yaml").read_text())[
        "schema"
    ]
    assert schema["outcomes"]["status"] == "Signed" and schema["label"]["positive"] == ["YES"]
    assert schema["order_by"] == "Month" and schema["order_kind"] == "values"
    leads = pd.read_parquet(pipeline / "data/interim/leads.parquet").set_index("lead_id")
    expected = truth.set_index("ref")["won"].astype(int)
    assert (leads["converted"].astype(int) == expected.reindex(leads.index)).all()
    features = pd.read_parquet(pipeline / "data/processed/features.parquet")
    month = leads.loc[features["lead_id"], "arrival_order"].to_numpy()
    assert ((features["split"] == "test") == (month >= MONTHS.index("Sep"))).all()
    assert metrics(pipeline)["roc_auc"] > 0.65


@pytest.fixture(scope="module")
def postgres_table(tmp_path_factory, env):
    if not POSTGRES_URL:
        message = "LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    truth = people(3000, seed=4)
    status = np.where(truth["won"], "Won", np.random.default_rng(5).choice(["Lost", "Open"], 3000))
    leads = pd.DataFrame(
        {
            "id": np.arange(1, 3001),
            "created_on": truth["created"].dt.normalize(),
            "title": truth["title"],
            "employees": truth["size"],
            "sector": truth["industry"],
            "utm_source": truth["source"],
            "country": truth["country"],
            "status": status,
            "closed_at": truth["won_at"].where(truth["won"]),
        }
    )
    rng = np.random.default_rng(6)
    repeat = rng.poisson(np.where(truth["won"], 4, 2))
    lead = np.repeat(leads["id"].to_numpy(), repeat)
    events = pd.DataFrame(
        {
            "lead_id": lead,
            "occurred_at": (
                np.repeat(truth["created"].to_numpy(), repeat)
                + pd.to_timedelta(rng.uniform(0, 10, len(lead)), unit="D")
            ).strftime("%Y-%m-%dT%H:%M:%S"),
            "kind": rng.choice(["email_open", "page_view", "pricing_view"], len(lead)),
        }
    )
    root = tmp_path_factory.mktemp("postgres")
    table = f"crm_leads_{os.getpid()}"
    engine = sa.create_engine(POSTGRES_URL)
    leads.to_sql(table, engine, index=False, if_exists="replace")
    events.to_sql("activity", sa.create_engine(f"sqlite:///{root / 'web.db'}"), index=False)
    url = sa.make_url(POSTGRES_URL)
    env = env | {"PGPASSWORD": url.password or ""}
    args = ["--leads", f"{POSTGRES_URL}#{table}", "--events", "sqlite:///web.db#activity"]

    def edit(params: dict) -> None:
        params["validate"]["created_from"] = "2024-02-01"

    pipeline = init_and_repro(root, env, "crm", args, edit, FIT_RULES + COUNTRY_RULE)
    yield pipeline, engine, table, env
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))


def test_postgres_table_with_dates_only_trains_without_hour_features(postgres_table):
    pipeline = postgres_table[0]
    dvc_yaml = (pipeline / "dvc.yaml").read_text()
    assert (
        "always_changed: true" in dvc_yaml
        and ":" + sa.make_url(POSTGRES_URL).password + "@" not in dvc_yaml
    )
    extract = json.loads((pipeline / "reports/extract.json").read_text())
    assert extract["leads"]["rows"] == 3000 and extract["events"]["rows"] > 6000
    validation = json.loads((pipeline / "reports/validation.json").read_text())
    january = 3000 - validation["leads"]["input"]
    assert validation["leads"]["out_of_scope"] == january > 200
    features = pd.read_parquet(pipeline / "data/processed/features.parquet")
    assert "weekday" in features and not {"hour", "is_business_hours"} & set(features.columns)
    assert "pricing_view_7d" in features and metrics(pipeline)["roc_auc"] > 0.65


def test_rerun_skips_downstream_when_unchanged_and_extract_sees_new_rows(postgres_table):
    pipeline, engine, table, env = postgres_table
    root = pipeline.parents[1]
    env = env | {"MLFLOW_TRACKING_URI": f"sqlite:///{pipeline / 'mlflow.db'}"}
    again = run(["dvc", "repro", "pipelines/crm/dvc.yaml"], root, env)
    stage = "Running stage 'pipelines/crm/dvc.yaml:{}'"
    assert stage.format("extract") in again.stdout  # always asked: a database has no hash
    assert stage.format("validate") not in again.stdout  # the same rows: nothing else reruns
    assert "Stage 'pipelines/crm/dvc.yaml:report' didn't change" in again.stdout
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO \"{table}\" (id, created_on, title, status) "
                             "VALUES (3001, '2024-11-01', 'Manager', 'Open')"))  # fmt: skip
    run(["dvc", "repro", "--single-item", "pipelines/crm/dvc.yaml:extract"], root, env)
    assert json.loads((pipeline / "reports/extract.json").read_text())["leads"]["rows"] == 3001


@pytest.fixture(scope="module")
def unnamed_label(tmp_path_factory, env) -> Path:
    """A CSV with no id column and its outcome in a column called ``y`` (yes/no), with a date
    filled for converters: `leadscore init` with no edit but the fit rules (issue 31)."""
    truth = people(2000, seed=7)
    export = pd.DataFrame(
        {
            "Created": truth["created"].dt.strftime("%Y-%m-%d %H:%M"),
            "Email": [f"person{i}@example.com" for i in range(len(truth))],
            "Job Title": truth["title"],
            "Industry": truth["industry"],
            "Lead Source": truth["source"],
            "Website Visits": truth["visits"].astype(str),
            "y": np.where(truth["won"], "yes", "no"),
            "Closed On": truth["won_at"].dt.strftime("%Y-%m-%d %H:%M").where(truth["won"]),
        }
    )
    root = tmp_path_factory.mktemp("unnamed")
    export.to_csv(root / "leads.csv", index=False)
    return init_and_repro(root, env, "unnamed", ["--leads", "leads.csv"], lambda p: None)


def test_an_unnamed_label_is_neither_input_nor_id_and_scores_without_it(unnamed_label, env):
    pipeline = unnamed_label
    schema = yaml.safe_load((pipeline.parents[1] / "config/unnamed/params.yaml").read_text())[
        "schema"
    ]
    assert schema["leads"]["converted"] == "y" and schema["leads"]["converted_at"] == "Closed On"
    assert not {"y", "Closed On"} & {*schema["id_from"], *schema.get("categorical", {}).values()}
    tonight = pd.read_csv(pipeline.parents[1] / "leads.csv").drop(columns=["y", "Closed On"])
    tonight.head(30).to_csv(pipeline / "tonight.csv", index=False)
    done = run(
        ["leadscore", "score", "--model", "models/lead_scorer", "--leads", "tonight.csv",
         "--out", "scores.parquet", "--as-of", "2025-01-01T00:00:00Z"],
        pipeline, env,
    )  # fmt: skip
    assert json.loads(done.stdout[done.stdout.index("{") :])["scored"] == 30


def test_the_api_scores_a_model_without_an_id_column_with_the_batch_path_id(unnamed_label, env):
    """The API answered 500 (KeyError 'lead_id') for any model of a table without an id: it
    now hashes the lead's schema.id_from values as sent, as batch hashes the table's."""
    pipeline, as_of = unnamed_label, "2025-01-01T00:00:00Z"
    raw = pd.read_csv(pipeline.parents[1] / "leads.csv", dtype=str).drop(columns=["y", "Closed On"])
    raw.head(5).to_csv(pipeline / "five.csv", index=False)
    run(
        ["leadscore", "score", "--model", "models/lead_scorer", "--leads", "five.csv",
         "--out", "five.parquet", "--as-of", as_of],
        pipeline, env,
    )  # fmt: skip
    batch = pd.read_parquet(pipeline / "five.parquet").set_index("lead_id")
    rows = json.loads(raw.head(5).to_json(orient="records"))
    with api_serving(pipeline, env, keys=None) as url:
        one = requests.post(f"{url}/score", json={"lead": rows[0], "as_of": as_of}, timeout=30)
        many = requests.post(
            f"{url}/score/batch",
            json={"leads": [{"lead": r, "as_of": as_of} for r in rows]},
            timeout=30,
        )
        twice = requests.post(
            f"{url}/score/batch",
            json={"leads": [{"lead": rows[0], "as_of": as_of}] * 2},
            timeout=30,
        )
    assert one.status_code == 200, one.text
    assert one.json()["lead_id"] == batch.index[0]
    assert one.json()["probability"] == pytest.approx(batch["probability"].iloc[0], abs=1e-12)
    assert many.status_code == 200, many.text
    online = pd.DataFrame(many.json()).set_index("lead_id")
    assert list(online.index) == list(batch.index)
    np.testing.assert_allclose(online["probability"], batch["probability"], rtol=0, atol=1e-12)
    assert twice.status_code == 422 and "same lead" in twice.text
