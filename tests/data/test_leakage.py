"""The leakage audit: a planted leaky column is flagged, an honest strong one is not."""

import numpy as np
import pandas as pd
import pytest

from leadscore.config import SchemaConfig, ValidateConfig
from leadscore.data.leakage import (
    audit_columns,
    audit_table,
    decide_exclusions,
    discretize,
    filled_ratio,
)
from leadscore.data.validation import validate_leads
from leadscore.errors import SchemaError

PLACEHOLDERS = ("", "Select")


def synthetic(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    """A lead table whose outcome depends on an honest signal, plus a column sales fills in
    after the outcome (a near copy of it), an id-like column and a constant."""
    rng = np.random.default_rng(seed)
    minutes = rng.gamma(2.0, 10.0, n)
    converted = (rng.random(n) < 1 / (1 + np.exp(-(minutes - 25) / 8))).astype(int)
    outcome_note = np.where(converted == 1, "Will enroll", "Not interested")
    noise = rng.random(n) < 0.05
    outcome_note = np.where(noise, "Called back", outcome_note)
    return pd.DataFrame(
        {
            "Id": [f"L{i:05d}" for i in range(n)],
            "Number": np.arange(n),
            "Converted": converted,
            "Minutes on site": minutes.round(1),
            "Sales note": outcome_note,
            "Ticket": [f"T{i}" for i in rng.permutation(n)],
            "Newsletter": "No",
            "Occupation": np.where(rng.random(n) < 0.3, "Select", "Student"),
        }
    )


def test_planted_leak_is_flagged_and_the_honest_strong_column_is_not():
    table = synthetic()
    audit = audit_columns(table.drop(columns=["Id", "Converted"]), table["Converted"], PLACEHOLDERS)
    auc = audit.set_index("column")["roc_auc"]
    assert auc["Sales note"] > 0.93  # the leak gives the outcome away
    assert 0.70 < auc["Minutes on site"] < 0.85  # strong, but a lead-time signal
    assert abs(auc["Ticket"] - 0.5) < 0.05  # an id-like column learns nothing out of fold
    assert auc["Newsletter"] == 0.5
    decided = decide_exclusions(
        audit, 0.85, after_contact=(), exclude=(), keep=(), converter_only_ratio=20
    )
    flagged = decided.set_index("column")["flagged"]
    assert flagged["Sales note"] and not flagged["Minutes on site"]
    assert decided.loc[decided["excluded"], "column"].tolist() == ["Sales note"]


def test_missingness_counts_placeholders_and_compares_by_label():
    table = pd.DataFrame(
        {"Field": ["Select", "a", None, "b", "a", "Select"], "Converted": [1, 1, 0, 0, 0, 0]}
    )
    row = audit_columns(table[["Field"]], table["Converted"], PLACEHOLDERS, folds=2).iloc[0]
    assert row["missing_rate"] == pytest.approx(0.5)
    assert row["missing_rate_converted"] == pytest.approx(0.5)
    assert row["missing_rate_not_converted"] == pytest.approx(0.5)
    assert row["missing_gap"] == pytest.approx(0.0)
    assert row["levels"] == 2


def test_numbers_written_as_text_are_binned_as_numbers():
    levels = discretize(pd.Series([str(v) for v in range(100)] + [None]), PLACEHOLDERS)
    assert levels.nunique() == 21  # 20 quantile bins and the missing level
    assert levels.iloc[-1] == "__missing__"


def test_declared_after_contact_is_excluded_unless_kept_and_declared_exclusions_always_hold():
    audit = pd.DataFrame(
        {"column": ["Tags", "Score", "Notes"], "roc_auc": [0.6, 0.9, 0.5], "filled_ratio": 1.0}
    )
    decided = decide_exclusions(
        audit, 0.85, ["Tags"], exclude=["Notes"], keep=["Score"], converter_only_ratio=20
    )
    rows = decided.set_index("column")
    assert rows["excluded"].to_dict() == {"Tags": True, "Score": False, "Notes": True}
    assert rows.loc["Score", "kept"]
    assert rows.loc["Score", "reason"].startswith("kept by validate.keep although ROC-AUC alone")
    assert "after contact" in rows.loc["Tags", "reason"]
    assert rows.loc["Notes", "reason"] == "declared in schema.exclude"


def with_deal_columns(table: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """``table`` plus a column sales fills in after a deal (for 40 % of the converted leads,
    2 in 1,000 of the others: a data-entry slip) and an honest form field that converting
    leads answer more often (90 % against 60 %)."""
    rng = np.random.default_rng(seed)
    won = table["Converted"].to_numpy() == 1
    filled = rng.random(len(table)) < np.where(won, 0.4, 0.002)
    answered = rng.random(len(table)) < np.where(won, 0.9, 0.6)
    return table.assign(
        **{
            "Contract value": np.where(filled, rng.integers(1, 90, len(table)) * 100.0, np.nan),
            "Budget": np.where(answered, rng.choice(["<1k", "1k-10k", ">10k"], len(table)), ""),
        }
    )


def test_a_column_filled_only_after_a_deal_is_flagged_an_honest_gap_is_not():
    table = with_deal_columns(synthetic())
    audit = audit_columns(
        table[["Contract value", "Budget"]], table["Converted"], PLACEHOLDERS
    ).set_index("column")
    # on its values alone the deal column ranks modestly: most converters do not have it
    assert audit.loc["Contract value", "roc_auc"] < 0.75
    assert audit.loc["Budget", "missing_gap"] < -0.25  # a real missingness difference
    assert audit.loc["Contract value", "filled_ratio"] > 50
    assert audit.loc["Budget", "filled_ratio"] < 2
    decided = decide_exclusions(
        audit.reset_index(), 0.85, (), exclude=(), keep=(), converter_only_ratio=20
    ).set_index("column")
    assert decided["converter_only"].to_dict() == {"Contract value": True, "Budget": False}
    assert decided["excluded"].to_dict() == {"Contract value": True, "Budget": False}
    reason = decided.loc["Contract value", "reason"]
    assert reason.startswith("filled for 4") and "of converted leads but only 0." in reason
    assert reason.endswith(">= validate.converter_only_ratio 20)")


def test_the_ratio_is_smoothed_so_a_handful_of_converters_flags_nothing():
    got = filled_ratio(pd.Series([0.995, 0.98, 0.0, 0.4]), pd.Series([1.0, 1.0, 1.0, 0.1]))
    # filled for 0.5 % of converters only: 6; for 2 %: 21; for every converter: 1001;
    # an honest 60 % against 90 %: 0.67
    assert got.round(2).tolist() == [6.0, 21.0, 1001.0, 0.67]


def test_a_converter_only_column_is_excluded_unless_kept():
    table = with_deal_columns(synthetic())
    schema = _schema(numeric={"contract_value": "Contract value"})
    valid = validate_leads(
        table, schema=schema, now=pd.Timestamp("2030-01-01", tz="UTC"), future_tolerance_hours=24
    ).valid
    fractions = (0.2, 0.2)
    audit = audit_table(
        table, valid, schema=schema, cfg=ValidateConfig(), held_out_fractions=fractions
    )
    assert audit["converter_only_ratio"] == 20
    assert "Contract value" in audit["flagged"] and "Contract value" in audit["excluded"]
    assert "Budget" not in audit["flagged"]
    kept = ValidateConfig(keep=("Contract value",))
    audit = audit_table(table, valid, schema=schema, cfg=kept, held_out_fractions=fractions)
    assert "Contract value" in audit["kept"] and "Contract value" not in audit["excluded"]
    stricter = ValidateConfig(converter_only_ratio=1e6)
    audit = audit_table(table, valid, schema=schema, cfg=stricter, held_out_fractions=fractions)
    assert "Contract value" not in audit["flagged"]


def _schema(**extra) -> SchemaConfig:
    return SchemaConfig(
        leads={"lead_id": "Id", "converted": "Converted"},
        order_by="Number",
        categorical={"sales_note": "Sales note", "occupation": "Occupation"},
        engagement_columns={"minutes_on_site": "Minutes on site"},
        **extra,
    )


def test_audit_table_reads_only_the_training_window_and_names_roles():
    table = synthetic()
    late = table["Number"] >= 2500  # a leak that only exists among the held-out leads
    table["Late note"] = np.where(late, table["Converted"].astype(str), "none")
    table = table.sample(frac=1.0, random_state=0)  # file order is not arrival order
    schema = _schema(after_contact=("Ticket",))
    valid = validate_leads(
        table, schema=schema, now=pd.Timestamp("2030-01-01", tz="UTC"), future_tolerance_hours=24
    ).valid
    audit = audit_table(
        table, valid, schema=schema, cfg=ValidateConfig(), held_out_fractions=(0.2, 0.2)
    )
    assert audit["window"]["leads"] in (2400, 2401)  # the earliest 60 % by Number
    assert audit["window"]["split"] == {
        "method": "order_by: Number",
        "out_of_time": True,
        "warning": None,
    }
    assert audit["flagged"] == ["Sales note"]
    assert audit["excluded"] == ["Sales note", "Ticket"]
    assert set(audit["not_mapped"]) == {"Ticket", "Late note", "Newsletter"}
    columns = {c["column"]: c for c in audit["columns"]}
    assert set(columns) == {
        "Minutes on site", "Sales note", "Ticket", "Newsletter", "Occupation", "Late note"
    }  # fmt: skip
    assert columns["Late note"]["roc_auc"] == 0.5  # constant inside the training window
    assert columns["Minutes on site"]["feature"] == "minutes_on_site"
    assert columns["Ticket"]["feature"] is None


def test_audit_without_any_order_warns_that_the_split_is_random():
    table = synthetic(n=500)
    schema = _schema().model_copy(update={"order_by": None})
    valid = validate_leads(
        table, schema=schema, now=pd.Timestamp("2030-01-01", tz="UTC"), future_tolerance_hours=24
    ).valid
    split = audit_table(
        table, valid, schema=schema, cfg=ValidateConfig(), held_out_fractions=(0.2, 0.2)
    )["window"]["split"]
    assert split["method"] == "random" and not split["out_of_time"]
    assert "not out-of-time" in split["warning"]


def test_unknown_column_in_after_contact_names_the_key():
    table = synthetic(n=200)
    schema = _schema(after_contact=("Tagz",))
    valid = validate_leads(
        table, schema=schema, now=pd.Timestamp("2030-01-01", tz="UTC"), future_tolerance_hours=24
    ).valid
    with pytest.raises(SchemaError, match=r"schema\.after_contact names column\(s\) \['Tagz'\]"):
        audit_table(
            table, valid, schema=schema, cfg=ValidateConfig(), held_out_fractions=(0.2, 0.2)
        )
