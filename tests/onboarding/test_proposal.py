"""`leadscore init`'s proposal on small hand-built samples: every role found for the reason it
gives, dates never guessed, and files that load as the config and pipeline they claim to be."""

import numpy as np
import pandas as pd
import pytest
import yaml

from dependencies import uncovered
from leadscore.config import load_params
from leadscore.errors import ConfigError
from leadscore.modeling.fit_score import load_fit_rules
from leadscore.onboarding import proposal, rules, writing
from leadscore.onboarding.pipeline import pipeline_stages


def sample(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(1, 28, n)
    won = rng.random(n) < 0.3
    return pd.DataFrame(
        {
            "Lead ID": [f"L{i:05d}" for i in range(n)],
            "Created": [
                f"{d:02d}/{1 + i % 12:02d}/2024 10:{i % 60:02d}" for i, d in enumerate(days)
            ],
            "Contact Email": [f"p{i}@example.com" for i in range(n)],
            "Lead Source": rng.choice(["Google", "Referral", "Event"], n),
            "Industry": rng.choice(["Retail", "Finance"], n),
            "Do Not Email": rng.choice(["Yes", "No"], n),
            "What is your budget": rng.choice(["Select", "<10k", "10k+"], n),
            "Page Views": rng.integers(0, 20, n).astype(str),
            "Deal Stage Notes": np.where(won & (rng.random(n) < 0.7), "call back", None),
            "Won": np.where(won, "YES", "NO"),
        }
    )


def test_roles_label_dates_and_suspects_are_proposed_with_their_reasons():
    found = proposal.propose(sample())
    schema = found.params["schema"]
    assert schema["leads"] == {
        "lead_id": "Lead ID", "created_at": "Created", "converted": "Won",
        "email": "Contact Email", "industry": "Industry", "source": "Lead Source",
    }  # fmt: skip
    assert schema["label"] == {"positive": ["YES"], "negative": ["NO"]}
    assert schema["dates"] == {"columns": {"Created": {"format": "%d/%m/%Y %H:%M"}}}
    assert "day-first" in found.notes["dates:Created"]
    assert schema["form"] == {"what_is_your_budget": "What is your budget"}
    assert schema["categorical"] == {
        "do_not_email": "Do Not Email",
        "deal_stage_notes": "Deal Stage Notes",
    }
    assert schema["engagement_columns"] == {"page_views": "Page Views"}
    assert schema["after_contact"] == ["Deal Stage Notes"]  # filled for converters only
    assert "missing for" in found.notes["after_contact:Deal Stage Notes"]


def test_an_ambiguous_date_is_a_todo_not_a_guess():
    leads = sample().assign(Created=lambda f: f["Created"].str.replace(r"^\d\d", "01", regex=True))
    found = proposal.propose(leads)
    assert "dates" not in found.params["schema"]
    assert any("'Created'" in t and "before validate" in t for t in found.todo)


def test_no_id_column_gets_a_generated_id_from_what_does_not_change():
    found = proposal.propose(sample().drop(columns="Lead ID"))
    id_from = found.params["schema"]["id_from"]
    assert "Created" in id_from and "Contact Email" in id_from
    assert not {"Won", "Page Views", "Deal Stage Notes"} & set(id_from)


def test_outcomes_in_a_second_table_are_joined_on_the_matching_column():
    leads = sample().drop(columns="Won")
    deals = pd.DataFrame(
        {"contact": leads["Contact Email"][:50], "Result": ["Won", "Lost"] * 25,
         "Closed On": ["2024-05-01"] * 50}
    )  # fmt: skip
    found = proposal.propose(leads, outcomes=deals, outcome_key="contact")
    schema = found.params["schema"]
    assert schema["outcomes"] == {
        "key": "contact", "lead_key": "Contact Email", "status": "Result",
        "converted_at": "Closed On",
    }  # fmt: skip
    assert schema["label"] == {"positive": ["Won"], "negative": ["Lost"]}
    assert found.label.sum() == 25 and (found.label == 0).sum() == len(leads) - 25


def test_written_files_load_refuse_to_overwrite_and_cover_every_source_file(tmp_path):
    leads = sample()
    found = proposal.propose(leads)
    found.params["calibrate"] = {"fit_rules": str(tmp_path / "fit_rules.yaml")}
    params = tmp_path / "params.yaml"
    fit = rules.propose_fit_rules(
        leads, found.fit_columns, found.label, proposal.training_share(found)
    )
    files = {
        params: writing.render_params(found, name="t", source="leads.csv", rows=len(leads)),
        tmp_path / "fit_rules.yaml": writing.render_fit_rules(fit, name="t"),
    }
    writing.write_files(files, force=False)
    loaded = load_params(params)
    assert loaded.schema_.label.positive == ("YES",)
    assert loaded.schema_.dates.of("leads", "Created").format == "%d/%m/%Y %H:%M"
    declared = tuple(loaded.schema_.declared())
    assert load_fit_rules(tmp_path / "fit_rules.yaml", declared).rules  # a rule per fit column
    assert "# named like an id and unique in the sample" in params.read_text()
    params.write_text(params.read_text() + "# my edit\n")
    with pytest.raises(ConfigError, match=r"params\.yaml exists and may hold your edits"):
        writing.write_files(files, force=False)
    assert params.read_text().endswith("# my edit\n")
    folder = tmp_path / "pipelines" / "t"
    stages = pipeline_stages(
        {"leads": "postgresql+psycopg://me@db/crm#leads"}, folder=folder, params=params,
        fit_rules=tmp_path / "fit_rules.yaml", local={},
    )  # fmt: skip
    assert list(stages) == [
        "extract", "validate", "featurize", "train", "calibrate", "evaluate", "export", "report"
    ]  # fmt: skip
    assert stages["extract"]["always_changed"] is True
    assert uncovered(stages, folder) == {}
    assert yaml.safe_load(writing.render_pipeline(stages, name="t"))["stages"] == stages
