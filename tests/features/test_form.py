"""Form-fill features: flags and cleaned answers, never raw personal values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.form import company_size_band, form_features, job_seniority

PLACEHOLDERS = ("", "Select", "N/A")


def _leads(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_placeholders_count_as_not_filled_in():
    leads = _leads(industry=["Software", "Select", " ", None], budget=["250k+", "N/A", "x", "y"])
    out = pd.DataFrame(form_features(leads, PLACEHOLDERS))
    assert out["has_industry"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert out["form_completeness"].tolist() == [1.0, 0.0, 0.5, 0.5]
    assert out["industry"].tolist()[0] == "software"
    assert out["industry"].isna().tolist() == [False, True, True, True]


def test_email_validity_and_free_mail_without_the_address_itself():
    emails = ["ana.silva@gmail.com", "bo@acme-analytics.io", "bo at acme.io", None]
    out = pd.DataFrame(form_features(_leads(email=emails), PLACEHOLDERS))
    assert out["email_is_valid"].tolist()[:3] == [1.0, 1.0, 0.0]
    assert np.isnan(out["email_is_valid"].iloc[3])
    assert out["email_is_free"].tolist()[:2] == [1.0, 0.0]
    assert not out.astype("str").isin(emails[:3]).any().any()


def test_phone_validity_and_country_match():
    leads = _leads(phone=["+4915123456789", "+12015550123", "12345", None])
    country = pd.Series(["DE", "DE", "DE", "DE"])
    out = pd.DataFrame(form_features(leads, PLACEHOLDERS, country))
    assert out["phone_is_valid"].tolist()[:3] == [1.0, 1.0, 0.0]
    assert out["phone_country_match"].tolist()[:2] == [1.0, 0.0]
    assert out["phone_country_match"].iloc[2:].isna().all()


def test_job_titles_become_seniority_and_function():
    titles = pd.Series(["Vice President of Sales", "CEO", "Head of Growth", "Marketing Intern",
                        "Sales Manager", "Data Analyst", None])  # fmt: skip
    assert job_seniority(titles).tolist()[:6] == [
        "vp", "c_level", "director", "intern_student", "manager", "individual",
    ]  # fmt: skip
    out = pd.DataFrame(form_features(_leads(job_title=titles), PLACEHOLDERS))
    assert out["job_function"].tolist()[:6] == [
        "sales", "executive", "marketing", "marketing", "sales", "data",
    ]  # fmt: skip
    assert pd.isna(out["job_seniority"].iloc[6])


def test_company_size_written_as_range_count_or_open_band():
    sizes = pd.Series(["51-200", "120", "5000+", "10,000", "1-10", "about 3", "lots", None])
    assert company_size_band(sizes).tolist()[:6] == [
        "51-200", "51-200", "5000+", "5000+", "1-10", "1-10",
    ]  # fmt: skip
    assert pd.isna(company_size_band(sizes)[6:]).all()
