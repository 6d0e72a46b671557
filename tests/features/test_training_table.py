"""The featurized training table: snapshots, features, label and split; excluded columns apart."""

from __future__ import annotations

import pandas as pd

from leadscore.config import ORDER_COLUMN, SchemaConfig
from leadscore.features.training_table import training_table
from leadscore.modeling.training import NON_FEATURES, feature_names


def test_every_snapshot_carries_its_lead_s_split_label_and_arrival(clean, params):
    leads, events = clean
    table = training_table(
        leads, events, cfg=params.featurize, schema=params.schema_, excluded=set()
    )
    features = table.features
    assert set(NON_FEATURES) - {ORDER_COLUMN} <= set(features.columns)
    assert ORDER_COLUMN not in features  # the demo is ordered by created_at, not a column
    assert (features.groupby("lead_id")["split"].nunique() == 1).all()  # a lead, one window
    firsts = features.groupby("split")["arrival"].agg(["min", "max"])
    assert firsts.loc["train", "max"] < firsts.loc["valid", "min"]  # out of time
    assert firsts.loc["valid", "max"] < firsts.loc["test", "min"]
    assert set(features["age_days"]) == set(params.featurize.snapshot_ages_days)
    horizon = pd.Timedelta(days=params.featurize.horizon_days)
    assert (features["as_of"] + horizon <= table.data_end).all()  # every label is known
    assert table.excluded.columns.tolist() == ["lead_id", "as_of"]  # nothing was excluded
    summary = table.summary()
    assert sum(s["rows"] for s in summary["splits"].values()) == len(features)


def test_audit_exclusions_leave_the_model_and_go_to_the_comparison_table(clean, params):
    leads, events = clean
    table = training_table(
        leads, events, cfg=params.featurize, schema=params.schema_, excluded={"job_title"}
    )
    assert "job_title" not in table.schema.leads
    assert not {"job_seniority", "job_function"} & set(table.features.columns)
    assert {"job_seniority", "job_function"} <= set(table.excluded.columns)
    pd.testing.assert_frame_equal(
        table.excluded[["lead_id", "as_of"]], table.features[["lead_id", "as_of"]]
    )
    user_excluded = params.schema_.model_copy(update={"exclude": ("job_title",)})
    own = training_table(
        leads, events, cfg=params.featurize, schema=user_excluded, excluded={"job_title"}
    )
    assert own.excluded.columns.tolist() == ["lead_id", "as_of"]  # no comparison to make
    assert isinstance(own.schema, SchemaConfig) and own.schema.order_by is None


def test_a_table_ordered_by_a_column_carries_its_values_but_not_as_a_feature(clean, params):
    leads, _ = clean
    lead_time = {"created_at", "converted_at"}
    numbered = leads.drop(columns=list(lead_time)).sample(frac=1.0, random_state=0)
    numbered[ORDER_COLUMN] = 5000 + 10 * numbered["lead_id"].rank(method="first").to_numpy()
    schema = params.schema_.model_copy(
        update={
            "leads": {r: c for r, c in params.schema_.leads.items() if r not in lead_time},
            "order_by": "Lead Number",
        }
    )
    table = training_table(numbered, None, cfg=params.featurize, schema=schema, excluded=set())
    features = table.features
    assert ORDER_COLUMN not in feature_names(features)
    bounds = features.groupby("split")[ORDER_COLUMN].agg(["min", "max"])
    assert bounds.loc["train", "min"] == 5010  # the first lead by the ordering column
    assert bounds.loc["train", "max"] < bounds.loc["valid", "min"]
    assert bounds.loc["valid", "max"] < bounds.loc["test", "min"]
    by_lead = numbered.set_index("lead_id")[ORDER_COLUMN]
    assert (features[ORDER_COLUMN] == features["lead_id"].map(by_lead)).all()
