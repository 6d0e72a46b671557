import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from leadscore.config import ORDER_COLUMN
from leadscore.report.importance import FIT, importance_table, shap_importance
from leadscore.report.page import (
    band_table,
    bound,
    calibration_table,
    decimal,
    grade_score_matrix,
    grade_table,
    lookup,
    percent,
    signal_breakdowns,
    split_windows,
    window_order,
)


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": [1, 1, 0, 1, 0, 0, 0, 0, 0, 0],
            "probability": [0.9, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05],
            "model_probability": [0.8, 0.7, 0.6, 0.5, 0.4, 0.35, 0.3, 0.2, 0.1, 0.05],
            "band": ["sales_ready"] * 2 + ["marketing_qualified"] * 3 + ["nurture"] * 5,
            "fit_grade": ["A", "B", "A", "B", "C", "C", "D", "D", "D", "D"],
        }
    )


def test_band_table_by_hand():
    got = band_table(_scores(), {"sales_ready": 0.6, "marketing_qualified": 0.3})
    expected = pd.DataFrame(
        {
            "band": ["sales_ready", "marketing_qualified", "nurture"],
            "lower_threshold": [0.6, 0.3, 0.0],
            "leads": [2, 3, 5],
            "share_of_leads": [0.2, 0.3, 0.5],
            "precision": [1.0, 1 / 3, 0.0],
            "recall": [2 / 3, 1 / 3, 0.0],
            "lift": [1.0 / 0.3, (1 / 3) / 0.3, 0.0],
            "expected_conversions": [1.5, 1.2, 0.5],
            "actual_conversions": [2.0, 1.0, 0.0],
        }
    )
    assert_frame_equal(got, expected)


def test_band_table_keeps_an_empty_band_without_dividing_by_zero():
    scores = _scores().assign(band="nurture")
    got = band_table(scores, {"sales_ready": 0.95, "marketing_qualified": 0.92})
    assert got["leads"].tolist() == [0, 0, 10]
    assert np.isnan(got.loc[0, "precision"]) and np.isnan(got.loc[0, "lift"])
    assert got.loc[2, "recall"] == 1.0


def test_grade_table_lists_every_grade_in_order():
    got = grade_table(_scores().query("fit_grade != 'B'"))
    assert got["fit_grade"].tolist() == ["A", "B", "C", "D"]
    assert got["leads"].tolist() == [2, 0, 2, 4]
    assert got.loc[0, "conversion_rate"] == 0.5 and np.isnan(got.loc[1, "conversion_rate"])
    assert got["share_of_leads"].sum() == pytest.approx(1.0)


def test_grade_score_matrix_counts_every_lead_once_by_fifth_of_model_score():
    got = grade_score_matrix(_scores())
    assert len(got) == 4 * 5 and got["leads"].sum() == 10
    top = got[(got["model_score"] == "top 20 %") & (got["leads"] > 0)]
    # The two best model scores (0.8 and 0.7) are an A that converted and a B that converted.
    assert sorted(top["fit_grade"]) == ["A", "B"] and (top["conversion_rate"] == 1.0).all()


def test_calibration_table_carries_the_metrics_of_each_curve():
    bins = pd.DataFrame(
        {"bin": [0], "bin_lower": [0.0], "mean_predicted": [0.1], "fraction_positive": [0.2],
         "count": [10]}
    )  # fmt: skip
    metrics = {"brier": 0.1, "ece": 0.02, "blend_before_calibration": {"brier": 0.2, "ece": 0.05}}
    got = calibration_table(bins, bins, metrics)
    assert got["curve"].tolist() == ["before", "after"]
    assert got["brier"].tolist() == [0.2, 0.1] and got["ece"].tolist() == [0.05, 0.02]


def test_lookup_follows_dotted_paths_and_fails_on_a_missing_key():
    metrics = {"roc_auc": 0.8, "model_only": {"roc_auc": 0.7}}
    assert lookup(metrics, "model_only.roc_auc") == 0.7
    with pytest.raises(KeyError):
        lookup(metrics, "fit_only.roc_auc")


def test_breakdowns_cover_the_top_signals_then_every_other_family():
    contrib = pd.DataFrame(
        {"weekday": [0.1, -0.1, 0.1, -0.1], "hour": [0.3, -0.3, 0.3, -0.3],
         "pricing_view_7d": [1.0, -1.0, 1.0, -1.0], FIT: [0.0, 0.0, 0.0, 0.0]}
    )  # fmt: skip
    importance = importance_table(
        shap_importance(contrib),
        pd.DataFrame(columns=["level", "name", "permutation_auc_drop", "permutation_auc_drop_std"]),
    )
    features = pd.DataFrame(
        {"weekday": [0.0, 1.0, 0.0, 6.0], "hour": [9.0, 23.0, 10.0, 2.0],
         "pricing_view_7d": [2.0, 0.0, 3.0, 0.0], "label": [1, 0, 1, 0]}
    )  # fmt: skip
    got = signal_breakdowns(importance, features, contrib, top=1)
    titles = [title for title, _ in got]
    # The top signal (pricing views), then engagement is covered, time (hour) beats weekday.
    assert titles == [
        "Pricing-page views in the last 7 days",
        "Hour the lead arrived (local time)",
        "Weekday the lead arrived (local time)",
    ]
    weekday = got[2][1]
    assert weekday["value"].tolist() == ["Mon", "Tue", "Sun"]
    assert weekday["leads"].tolist() == [2, 1, 1]
    # The arrival moment's contribution is weekday and hour together, as in the reasons.
    assert weekday["mean_contribution"].tolist() == pytest.approx([0.4, -0.4, -0.4])


def test_grade_score_matrix_has_a_cell_for_a_grade_without_leads():
    got = grade_score_matrix(_scores().query("fit_grade != 'B'"))
    assert len(got) == 4 * 5 and got["leads"].sum() == 8
    empty = got[got["fit_grade"] == "B"]
    assert len(empty) == 5 and (empty["leads"] == 0).all()
    assert empty["conversion_rate"].isna().all()


def test_grade_score_matrix_is_empty_without_a_model():
    got = grade_score_matrix(_scores().assign(model_probability=np.nan))
    assert got.empty


def _features(created_at: object, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d", "e"],
            "created_at": created_at,
            "label": [1, 0, 0, 1, 0],
            "split": ["train", "train", "valid", "test", "test"],
            **extra,
        }
    )


def test_windows_by_the_ordering_column_when_there_is_no_date():
    features = _features(pd.NaT, arrival_order=[579533.0, 579600.0, 600012.0, 640001.0, 660737.0])
    assert window_order(features) == ORDER_COLUMN
    windows = split_windows(features).set_index("split")
    assert windows["first_lead"].tolist() == [579533.0, 600012.0, 640001.0]
    assert windows["last_lead"].tolist() == [579600.0, 600012.0, 660737.0]
    assert [bound(v) for v in windows["last_lead"]] == ["579600", "600012", "660737"]
    assert windows["conversion_rate"].tolist() == [0.5, 0.0, 0.5]


def test_windows_by_date_and_without_any_order():
    days = pd.to_datetime(["2026-01-01", "2026-01-02", "2026-02-01", "2026-03-01", "2026-03-09"])
    dated = split_windows(_features(days.tz_localize("UTC")))
    assert [bound(v) for v in dated["last_lead"]] == ["2026-01-02", "2026-02-01", "2026-03-09"]
    random = _features(pd.NaT)
    assert window_order(random) is None
    assert [bound(v) for v in split_windows(random)["first_lead"]] == ["—"] * 3


def test_missing_figures_show_as_a_dash_not_nan():
    assert percent(np.nan) == "—" and percent(None) == "—" and percent(0.1234) == "12.3 %"
    assert decimal(float("nan"), 2) == "—" and decimal(1.23456, 2) == "1.23"
    assert decimal(0.5, 1, 100) == "50.0"
    assert bound(pd.NaT) == "—" and bound(np.nan) == "—" and bound(12.5) == "12.5"
