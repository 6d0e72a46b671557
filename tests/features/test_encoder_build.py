"""The encoder's saved vocabulary, the catalog, and the one feature code path on demo data."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadscore.config import SchemaConfig
from leadscore.data.schema import PERSONAL_ROLES
from leadscore.data.snapshots import data_end, make_snapshots
from leadscore.features import (
    FAMILIES,
    CategoryEncoder,
    FeatureInfo,
    build_features,
    describe_feature,
)
from leadscore.features.catalog import _FIXED, _PATTERNS
from leadscore.features.encoder import OTHER, SMALL_INPUT


def test_rare_and_unseen_levels_become_other_and_missing_stays_missing():
    train = pd.DataFrame({"browser": ["Chrome"] * 5 + ["Opera"] + [None], "n": range(7)})
    encoder = CategoryEncoder(min_count=2).fit(train)
    out = encoder.transform(pd.DataFrame({"browser": ["Chrome", "Opera", "Lynx", None],
                                          "n": ["1", 2, None, 4]}))  # fmt: skip
    assert list(out["browser"].cat.categories) == ["Chrome", "__other__"]
    assert out["browser"].tolist()[:3] == ["Chrome", "__other__", "__other__"]
    assert pd.isna(out["browser"].iloc[3])
    assert out["n"].dtype == "float64" and np.isnan(out["n"].iloc[2])


def test_vocabulary_round_trips_through_plain_json_state():
    train = pd.DataFrame({"a": ["x", "y", "x"], "b": [1.0, 2.0, 3.0]})
    encoder = CategoryEncoder(min_count=1).fit(train)
    again = CategoryEncoder.from_dict(encoder.to_dict())
    pd.testing.assert_frame_equal(encoder.transform(train), again.transform(train))
    missing = again.transform(train[["b"]])  # a table without an optional column still scores
    assert missing["a"].isna().all()


@pytest.fixture(scope="module")
def built(clean, params):
    leads, events = clean
    snapshots = make_snapshots(leads, (0.0, 1.0, 7.0), 30.0, data_end(leads, events))
    keys = snapshots[["lead_id", "as_of"]]
    return keys, build_features(keys, leads, events, params.featurize, params.schema_)


def test_one_row_per_snapshot_in_the_same_order(built):
    keys, features = built
    assert len(features) == len(keys)
    assert features["lead_id"].tolist() == keys["lead_id"].tolist()
    assert (features["as_of"].to_numpy() == keys["as_of"].to_numpy()).all()


def test_every_family_is_present_and_every_feature_is_in_the_catalog(built, params):
    _, features = built
    names = [c for c in features.columns if c not in ("lead_id", "as_of")]
    infos = [describe_feature(n, params.schema_) for n in names]
    assert {i.family for i in infos} == set(FAMILIES) - {"CRM fields"}  # the demo declares none
    listed = [n in _FIXED or any(p.fullmatch(n) for p, _ in _PATTERNS) for n in names]
    assert all(listed), [n for n, ok in zip(names, listed, strict=True) if not ok]


def test_no_personal_value_reaches_the_features(built, clean):
    _, features = built
    leads, _ = clean
    text = features.select_dtypes(exclude="number").astype("str")
    for role in PERSONAL_ROLES:
        assert not text.isin(leads[role].dropna().tolist()).any().any(), role
        assert role not in features.columns


def test_a_subset_of_snapshots_gets_exactly_the_same_features(built, clean, params):
    """Scoring one lead must see what training saw for it: features never depend on the batch."""
    keys, features = built
    leads, events = clean
    pick = keys.sample(25, random_state=0).sort_index()
    alone = build_features(pick, leads, events, params.featurize, params.schema_)
    pd.testing.assert_frame_equal(alone, features.loc[pick.index].reset_index(drop=True))


@pytest.fixture(scope="module")
def first_snapshots(built):
    keys, _ = built
    return keys.groupby("lead_id", sort=False).head(1).reset_index(drop=True)


def _after(events: pd.DataFrame, first: pd.DataFrame) -> pd.Series:
    return events["ts"] > events["lead_id"].map(first.set_index("lead_id")["as_of"])


def test_adding_removing_or_changing_later_events_leaves_every_feature_unchanged(
    clean, params, first_snapshots
):
    leads, events = clean
    first = first_snapshots
    later = _after(events, first)
    assert 0 < later.sum() < len(events)
    changed = events.copy()
    changed.loc[later, "event_type"] = "demo_request"
    changed.loc[later, "ts"] = changed.loc[later, "ts"] + pd.Timedelta(minutes=1)
    extra = events[later].assign(event_type="pricing_view")
    variants = {
        "removed": events[~later],
        "changed": changed,
        "added": pd.concat([events, extra], ignore_index=True),
    }
    base = build_features(first, leads, events, params.featurize, params.schema_)
    for name, variant in variants.items():
        other = build_features(first, leads, variant, params.featurize, params.schema_)
        pd.testing.assert_frame_equal(base, other, obj=name)


def test_a_conversion_after_the_scoring_moment_changes_no_feature(clean, params, first_snapshots):
    leads, events = clean
    converted = leads.assign(
        converted=1, converted_at=first_snapshots.set_index("lead_id")["as_of"]
        .reindex(leads["lead_id"]).to_numpy() + pd.Timedelta(hours=1),
    )  # fmt: skip
    pd.testing.assert_frame_equal(
        build_features(first_snapshots, leads, events, params.featurize, params.schema_),
        build_features(first_snapshots, converted, events, params.featurize, params.schema_),
    )


def test_unknown_lead_ids_are_an_input_error(clean, params):
    from leadscore.errors import InputError

    leads, events = clean
    ghost = pd.DataFrame({"lead_id": ["nobody"], "as_of": [pd.Timestamp.now(tz="UTC")]})
    with pytest.raises(InputError, match="unknown lead ids"):
        build_features(ghost, leads, events, params.featurize, params.schema_)


def test_a_declared_column_takes_the_family_of_its_kind_and_the_crm_name():
    schema = SchemaConfig.model_validate(
        {
            "leads": {"lead_id": "Id", "converted": "Won"},
            "form": {"specialization": "Specialization"},
            "categorical": {"lead_origin": "Lead Origin"},
            "numeric": {"score_a": "Score A"},
            "engagement_columns": {"total_visits": "TotalVisits"},
        }
    )
    names = ("specialization", "lead_origin", "score_a", "total_visits", "has_specialization")
    got = {n: describe_feature(n, schema) for n in names}
    assert got["specialization"] == FeatureInfo("form fill", "specialization", "Specialization")
    assert got["lead_origin"] == FeatureInfo("CRM fields", "lead_origin", "Lead Origin")
    assert got["score_a"].family == "CRM fields"
    assert got["total_visits"] == FeatureInfo("engagement", "total_visits", "TotalVisits")
    assert got["has_specialization"].family == "form fill"


def test_the_code_matrix_gives_lightgbm_the_numbers_of_the_category_frame(built):
    """Scoring reads ``matrix``, training ``transform``: one model must see the same input.
    A table (Index lookups) and single rows (dict lookups) must give the same codes."""
    _, features = built
    inputs = features.drop(columns=["lead_id", "as_of"])
    encoder = CategoryEncoder(min_count=30).fit(inputs)
    frame = encoder.transform(inputs)
    label = frame["job_seniority"].isin(["c_level", "vp"]) ^ (frame["events_30d"] > 3)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 20, "verbose": -1},
        lgb.Dataset(frame, label=label.astype(int)),
        num_boost_round=20,
    )
    assert len(inputs) > SMALL_INPUT
    matrix = encoder.matrix(inputs)
    rows = np.vstack([encoder.matrix(inputs.iloc[[i]]) for i in range(0, len(inputs), 97)])
    np.testing.assert_array_equal(rows, matrix[::97])
    np.testing.assert_array_equal(booster.predict(matrix), booster.predict(frame))
    np.testing.assert_array_equal(
        booster.predict(matrix[:200], pred_contrib=True),
        booster.predict(frame.iloc[:200], pred_contrib=True),
    )
    shown = encoder.decoded(matrix)
    assert (pd.isna(shown) == frame.isna().to_numpy()).all()
    assert (shown[~pd.isna(shown)] == frame.astype(object).to_numpy()[~pd.isna(shown)]).all()


def test_arrow_text_columns_get_the_codes_of_python_strings():
    """A table's text columns are Arrow-backed and looked up by Arrow's kernel; online rows and
    object columns by Python: the same codes, including blanks, missing and unseen levels."""
    rng = np.random.default_rng(7)
    levels = ["a", "b", "c", "rare", "", " ", None, "Ünï"]
    shares = [0.3, 0.2, 0.2, 0.004, 0.05, 0.046, 0.1, 0.1]
    seen = rng.choice(np.array(levels, dtype=object), size=5000, p=shares)
    fit_on = pd.DataFrame({"text": pd.Series(seen, dtype="str"), "x": rng.normal(size=5000)})
    encoder = CategoryEncoder(min_count=30).fit(fit_on)
    assert "rare" not in encoder.categories_["text"] and "" in encoder.categories_["text"]
    tonight = np.append(seen[:4000], ["never seen"] * 1000)
    arrow = pd.DataFrame({"text": pd.Series(tonight, dtype="str"), "x": np.zeros(5000)})
    assert type(arrow["text"].array).__name__ == "ArrowStringArray"
    python = arrow.astype({"text": object})
    matrix = encoder.matrix(arrow)
    np.testing.assert_array_equal(matrix, encoder.matrix(python))
    np.testing.assert_array_equal(matrix[:10], encoder.matrix(arrow.iloc[:10]))  # dict lookups
    other = encoder.categories_["text"].index(OTHER)
    assert (matrix[4000:, 0] == other).all() and np.isnan(matrix[:4000, 0]).sum() > 300
