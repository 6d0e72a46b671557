from pathlib import Path

import pytest
import yaml

from leadscore.config import Params, load_params
from leadscore.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_repository_params_load_and_match_defaults():
    params = load_params(REPO / "params.yaml")
    written = yaml.safe_load((REPO / "params.yaml").read_text())
    assert params.train.learning_rate == written["train"]["learning_rate"]
    assert params.generate.snapshot_ages_days == params.featurize.snapshot_ages_days
    assert params.featurize.snapshot_ages_days == (0.0, 1.0, 7.0)
    assert params.schema_.leads["lead_id"] == "lead_id"


def test_empty_file_gives_defaults(tmp_path):
    assert load_params(write(tmp_path, "")) == Params()


def test_unknown_key_is_named_with_the_file(tmp_path):
    path = write(tmp_path, "train:\n  learnig_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"params\.yaml: unknown key 'train\.learnig_rate'"):
        load_params(path)


def test_unknown_section_is_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'trian'"):
        load_params(write(tmp_path, "trian: {}\n"))


def test_bad_value_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"'train\.learning_rate'"):
        load_params(write(tmp_path, "train:\n  learning_rate: -1\n"))


def test_unknown_schema_role_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown role\(s\) \['lead_number'\]"):
        load_params(write(tmp_path, "schema:\n  leads: {lead_number: id}\n"))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(write(tmp_path, "train: [\n"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_params(write(tmp_path, "- 1\n"))


def test_horizons_must_agree_only_where_the_demo_generates(tmp_path):
    with pytest.raises(ConfigError, match="horizon_days"):
        load_params(write(tmp_path, "generate: {}\nfeaturize:\n  horizon_days: 14\n"))
    real = load_params(write(tmp_path, "featurize:\n  horizon_days: 14\n"))
    assert real.generate is None and real.featurize.horizon_days == 14


def test_the_truth_is_kept_at_the_snapshot_ages_featurize_uses(tmp_path):
    with pytest.raises(ConfigError, match=r"generate\.snapshot_ages_days"):
        load_params(
            write(tmp_path, "generate:\n  seed: 1\nfeaturize:\n  snapshot_ages_days: [0, 3]\n")
        )
    own_table = load_params(write(tmp_path, "featurize:\n  snapshot_ages_days: [0, 3]\n"))
    assert own_table.generate is None  # no demo generator, nothing to agree with
    both = "generate:\n  snapshot_ages_days: [3, 0]\nfeaturize:\n  snapshot_ages_days: [0, 3]\n"
    assert load_params(write(tmp_path, both)).generate.snapshot_ages_days == (0.0, 3.0)


def test_params_are_frozen():
    params = Params()
    with pytest.raises(ValueError):
        params.train.learning_rate = 0.2


def test_declared_columns_and_the_ordering_column_map_to_canonical_names():
    schema = Params.model_validate(
        {
            "schema": {
                "leads": {"lead_id": "Prospect ID"},
                "order_by": "Lead Number",
                "categorical": {"lead_origin": "Lead Origin"},
                "engagement_columns": ["visits"],
            }
        }
    ).schema_
    assert schema.engagement_columns == {"visits": "visits"}
    assert schema.roles_by_column() == {
        "Prospect ID": "lead_id",
        "Lead Origin": "lead_origin",
        "visits": "visits",
        "Lead Number": "arrival_order",
    }
    assert schema.without({"Lead Origin"}).categorical == {}


def test_declared_name_that_is_a_role_or_not_snake_case_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"\['country'\] are used twice or are roles"):
        load_params(write(tmp_path, "schema:\n  categorical: {country: Land}\n"))
    with pytest.raises(ConfigError, match="lower_case_with_underscores"):
        load_params(write(tmp_path, "schema:\n  numeric: {Visits: Visits}\n"))


def test_a_column_cannot_be_kept_and_excluded(tmp_path):
    text = "schema:\n  exclude: [Tags]\nvalidate:\n  keep: [Tags]\n"
    with pytest.raises(ConfigError, match=r"validate\.keep and schema\.exclude both name"):
        load_params(write(tmp_path, text))


@pytest.mark.parametrize(
    "schema",
    [
        "  leads: {lead_id: id, created_at: at, converted: y}\n  categorical: {answer: y}\n",
        "  leads: {created_at: at, converted: y, converted_at: won_at}\n  id_from: [at, won_at]\n",
        "  leads: {lead_id: id, converted: Revenue}\n  order_by: Revenue\n",
    ],
)
def test_the_label_is_never_a_feature_an_id_part_or_the_order(tmp_path, schema):
    with pytest.raises(ConfigError, match=r"hold the label"):
        load_params(write(tmp_path, "schema:\n" + schema))


def test_x_education_params_load():
    params = load_params(REPO / "config/x_education/params.yaml")
    assert params.schema_.order_by == "Lead Number"
    assert "Tags" in params.schema_.after_contact
