import pandas as pd
import pytest

from leadscore.config import SchemaConfig, ValidateConfig
from leadscore.data.labels import audit_input, decode_label, require_label
from leadscore.data.schema import stable_ids
from leadscore.data.validation import events_in_scope, in_scope, validate_leads
from leadscore.errors import ConfigError, SchemaError

NOW = pd.Timestamp("2026-06-01", tz="UTC")


def test_declared_values_decode_and_anything_else_is_unknown():
    schema = SchemaConfig.model_validate({"label": {"positive": ["YES"], "negative": ["NO"]}})
    decoded = decode_label(pd.Series(["YES", " NO", "yes", None, "Maybe"]), schema.label)
    assert decoded.tolist()[:2] == [1.0, 0.0] and decoded[2:].isna().all()


def test_numbers_compare_as_numbers():
    label = SchemaConfig().label  # 1 / 0
    assert decode_label(pd.Series([1, 0, 1.0]), label).tolist() == [1.0, 0.0, 1.0]
    assert decode_label(pd.Series(["1", "0.0", "2"]), label).tolist()[:2] == [1.0, 0.0]


def test_a_yaml_boolean_label_value_is_refused_not_guessed():
    with pytest.raises(ValueError, match="YAML boolean"):
        SchemaConfig.model_validate({"label": {"positive": [True]}})


def leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Lead": ["a", "b", "c", "d"],
            "Created": ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"],
            "Won": ["YES", "NO", "Perhaps", "NO"],
        }
    )


def test_an_undeclared_label_value_is_quarantined():
    schema = SchemaConfig.model_validate(
        {"leads": {"lead_id": "Lead", "created_at": "Created", "converted": "Won"},
         "label": {"positive": ["YES"], "negative": ["NO"]}}
    )  # fmt: skip
    result = validate_leads(leads(), schema=schema, now=NOW, future_tolerance_hours=24)
    assert result.quarantine["reason"].tolist() == ["invalid_converted"]
    assert result.valid["converted"].tolist() == [1, 0, 0]


OUTCOMES = SchemaConfig.model_validate(
    {
        "leads": {"lead_id": "Lead", "created_at": "Created"},
        "outcomes": {"key": "lead", "status": "stage", "converted_at": "closed"},
        "label": {"positive": ["Won"], "negative": ["Lost"]},
        "dates": {"outcomes": {"format": "%d/%m/%Y"}},
    }
)


def test_outcomes_join_present_positive_rows_and_their_earliest_date():
    outcomes = pd.DataFrame(
        {
            "lead": ["a", "a", "b", "c"],
            "stage": ["Won", "Won", "Lost", "Pending"],
            "closed": ["05/02/2026", "03/02/2026", "01/03/2026", None],
        }
    )
    frame = leads().drop(columns="Won")
    result = validate_leads(
        frame, schema=OUTCOMES, now=NOW, future_tolerance_hours=24, outcomes=outcomes
    )
    assert result.quarantine[["lead_id", "reason"]].values.tolist() == [["c", "invalid_converted"]]
    valid = result.valid.set_index("lead_id")
    assert valid["converted"].tolist() == [1, 0, 0]  # d has no row: not converted
    assert valid.loc["a", "converted_at"] == pd.Timestamp("2026-02-03", tz="UTC")
    assert pd.isna(valid.loc["b", "converted_at"])


def test_training_needs_a_label_column_or_the_outcomes():
    schema = SchemaConfig.model_validate({"leads": {"lead_id": "Lead", "converted": "Won"}})
    with pytest.raises(SchemaError, match="no label column 'Won'"):
        require_label(leads().drop(columns="Won"), schema, None)
    with pytest.raises(ConfigError, match="--outcomes"):
        require_label(leads(), OUTCOMES, None)


def test_stable_ids_ignore_row_order_and_number_types():
    frame = pd.DataFrame({"email": ["x@a.com", "y@b.com"], "visits": [3.0, 4.5]})
    text = pd.DataFrame({"email": ["y@b.com", "x@a.com"], "visits": ["4.5", "3"]})
    ids = stable_ids(frame, ("email", "visits"))
    assert ids.tolist() == stable_ids(text, ("email", "visits")).tolist()[::-1]
    assert ids.str.fullmatch(r"[0-9a-f]{20}").all() and ids.nunique() == 2


def test_a_table_without_ids_gets_them_and_exact_duplicates_are_one_lead():
    frame = pd.DataFrame(
        {"Created": ["2026-01-01", "2026-01-02", "2026-01-01"], "Won": ["1", "0", "1"],
         "Company": ["Acme", "Beta", "Acme"]}
    )  # fmt: skip
    schema = SchemaConfig.model_validate(
        {"leads": {"created_at": "Created", "converted": "Won", "company": "Company"},
         "id_from": ["Created", "Company"]}
    )  # fmt: skip
    result = validate_leads(frame, schema=schema, now=NOW, future_tolerance_hours=24)
    assert result.quarantine["reason"].tolist() == ["duplicate_lead_id"]
    assert (
        result.valid["lead_id"].tolist() == stable_ids(frame, ("Created", "Company"))[:2].tolist()
    )
    audited, mapping = audit_input(frame, result.valid, schema)
    assert audited[mapping.leads["lead_id"]].tolist()[:2] == result.valid["lead_id"].tolist()
    assert audited[mapping.leads["converted"]].tolist() == [1.0, 0.0, 1.0]


def test_id_from_and_a_mapped_id_do_not_go_together():
    with pytest.raises(ValueError, match="id_from"):
        SchemaConfig.model_validate({"leads": {"lead_id": "Lead"}, "id_from": ["Created"]})


def test_rows_before_created_from_are_out_of_scope_not_quarantined():
    schema = SchemaConfig.model_validate({"leads": {"lead_id": "Lead", "created_at": "Created"}})
    cfg = ValidateConfig(created_from="2026-01-03")
    kept, out = in_scope(leads(), schema, cfg.created_from)
    assert out["Lead"].tolist() == ["a", "b"] and kept["Lead"].tolist() == ["c", "d"]
    events = pd.DataFrame({"lead_id": ["a", "c", "x"], "ts": ["2026-01-05"] * 3})
    theirs, counted = events_in_scope(events, out, schema)
    assert counted == 1 and theirs["lead_id"].tolist() == ["c", "x"]  # x: validation's business
    with pytest.raises(ValueError, match="ISO-8601"):
        ValidateConfig(created_from="03/01/2026")
