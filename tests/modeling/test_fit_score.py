from pathlib import Path

import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

from leadscore.errors import ConfigError
from leadscore.features import build_features
from leadscore.modeling.fit_score import apply_fit_rules, load_fit_rules
from support import REPO


def fit_table(features: pd.DataFrame, rules) -> pd.DataFrame:
    """The fit score's columns as a table, indexed like the features."""
    table = pd.DataFrame(apply_fit_rules(features, rules), index=features.index)
    return table.astype({"fit_grade": "str", "fit_rules": "str"})


RULES = {
    "base": 10,
    "grades": {"A": 60, "B": 40, "C": 20},
    "rules": [
        {"name": "senior", "field": "job_seniority", "points": {"vp": 30, "intern_student": -20}},
        {"name": "free-mail", "field": "email_is_free", "points": {"1": -5}},
        {
            "name": "complete",
            "field": "form_completeness",
            "ranges": [{"min": 0.8, "max": 1.01, "points": 25}],
        },
    ],
    "disqualifiers": [{"name": "student", "field": "job_seniority", "values": ["intern_student"]}],
}


def rules_file(tmp_path: Path, rules: dict) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


def test_points_grades_and_fired_rules(tmp_path):
    features = pd.DataFrame(
        {
            "job_seniority": ["vp", "intern_student", None, "vp"],
            "email_is_free": [0.0, 1.0, 1.0, None],
            "form_completeness": [0.9, 1.0, 0.2, 0.5],
        }
    )
    got = fit_table(features, load_fit_rules(rules_file(tmp_path, RULES)))
    expected = pd.DataFrame(
        {
            "fit_score": [65.0, 10.0, 5.0, 40.0],
            "fit_grade": ["A", "D", "D", "B"],
            "fit_rules": [
                "senior+30; complete+25",
                "senior-20; free-mail-5; complete+25; student",
                "free-mail-5",
                "senior+30",
            ],
        }
    )
    assert_frame_equal(got, expected)


def test_missing_field_in_table_means_rule_cannot_fire(tmp_path):
    got = fit_table(
        pd.DataFrame({"job_seniority": ["vp"]}), load_fit_rules(rules_file(tmp_path, RULES))
    )
    assert got["fit_score"].tolist() == [40.0]


def test_score_is_clipped_to_scale(tmp_path):
    rules = {**RULES, "base": 90}
    got = fit_table(
        pd.DataFrame({"job_seniority": ["vp"]}), load_fit_rules(rules_file(tmp_path, rules))
    )
    assert got["fit_score"].tolist() == [100.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"rules": [{"name": "x", "field": "salary", "points": {"a": 1}}]},
            "rule 'x': unknown field 'salary'",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "field": "form_completeness",
                        "ranges": [
                            {"min": 0, "max": 0.5, "points": 1},
                            {"min": 0.4, "max": 1, "points": 2},
                        ],
                    }
                ]
            },
            r"rule 'r': ranges \[0.0, 0.5\) and \[0.4, 1.0\) overlap",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "field": "form_completeness",
                        "ranges": [{"min": 1, "max": 0, "points": 1}],
                    }
                ]
            },
            "not below max",
        ),
        ({"rules": [{"name": "e", "field": "industry"}]}, "rule 'e': give either"),
        ({"grades": {"A": 10, "B": 40, "C": 20}}, "descending cut-offs"),
        (
            {"rules": [{"name": "x", "field": "industry", "points": {"a": 1}, "colour": 1}]},
            "colour",
        ),
    ],
)
def test_invalid_rules_name_the_rule(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        load_fit_rules(rules_file(tmp_path, {**RULES, **change}))


def test_shipped_rule_file_is_valid():
    rules = load_fit_rules(REPO / "config" / "fit_rules.yaml")
    assert len(rules.rules) >= 8


def test_one_lead_alone_gets_what_it_gets_in_a_table(clean, params):
    """The online API scores one row at a time; the nightly run, tables: same rules, same fit."""
    leads, events = clean
    keys = pd.DataFrame(
        {"lead_id": leads["lead_id"], "as_of": pd.Timestamp("2026-11-01", tz="UTC")}
    )
    features = build_features(keys, leads, events, params.featurize, params.schema_)
    rules = load_fit_rules(REPO / "config/fit_rules.yaml")
    table = fit_table(features, rules)
    assert table["fit_rules"].str.contains(";").any() and table["fit_grade"].nunique() > 1
    for i in range(0, len(features), 59):
        assert_frame_equal(fit_table(features.iloc[[i]], rules), table.iloc[[i]])
