"""Form-fill features: what the lead told us and how carefully, never the raw personal values.

Raw e-mail, names and phone only ever become flags (given, valid, free-mail, country match);
job titles become seniority and function, company sizes a size band.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadscore.features.cleaning import clean_text, per_distinct

FORM_FIELDS: tuple[str, ...] = (
    "email", "phone", "first_name", "last_name", "company", "website", "job_title",
    "company_size", "industry", "budget", "authority", "need", "timeline",
)  # fmt: skip
ANSWER_FIELDS: tuple[str, ...] = ("industry", "budget", "authority", "need", "timeline")
# Consumer mailbox providers: an address there says "private person" rather than "company".
FREE_MAIL_DOMAINS: frozenset[str] = frozenset({
    "aol.com", "gmail.com", "googlemail.com", "gmx.de", "gmx.net", "hotmail.com", "hotmail.co.uk",
    "icloud.com", "live.com", "mail.com", "mail.ru", "me.com", "msn.com", "outlook.com",
    "proton.me", "protonmail.com", "qq.com", "rediffmail.com", "t-online.de", "web.de",
    "yahoo.co.in", "yahoo.co.uk", "yahoo.com", "yandex.ru", "zoho.com", "163.com",
})  # fmt: skip
# First match wins: "Vice President" is a VP before "President" makes it C-level.
SENIORITY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("intern_student", r"\b(intern|student|trainee|apprentice)\b"),
    ("vp", r"\b(vp|svp|evp|vice president)\b"),
    ("c_level", r"\b(ceo|cto|cfo|coo|cmo|cio|chief|founder|co-founder|owner|president|partner)\b"),
    ("director", r"\b(director|head)\b"),
    ("manager", r"\b(manager|lead|supervisor)\b"),
)
FUNCTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("marketing", r"market|growth|brand|seo|content|cmo"),
    ("sales", r"sales|account executive|business development|\bbdr\b|\bsdr\b"),
    ("engineering", r"engineer|developer|software|devops|\bcto\b"),
    ("it", r"\bit\b|information|sysadmin|\bcio\b"),
    ("finance", r"financ|accountant|accounting|controller|\bcfo\b"),
    ("operations", r"operations|logistics|\bcoo\b"),
    ("product", r"product"),
    ("data", r"data|analyst|scien"),
    ("executive", r"\bceo\b|founder|owner|president|chief executive"),
)
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit, which email-validator also applies
SIZE_BANDS: tuple[str, ...] = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")
SIZE_EDGES: tuple[float, ...] = (0, 10, 50, 200, 1000, 5000, np.inf)


def form_features(
    leads: pd.DataFrame,
    placeholders: Iterable[str],
    country: pd.Series | None = None,
    declared: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per lead: presence flags, completeness and the cleaned form answers.

    ``declared`` are a table's own form fields (``schema.form``): each gives a presence flag,
    its cleaned answer as the CRM spells it, and counts towards completeness.
    """
    present = [f for f in (*FORM_FIELDS, *declared) if f in leads]
    cleaned = {f: clean_text(leads[f], placeholders) for f in present}
    out = pd.DataFrame(index=leads.index)
    for field in present:
        out[f"has_{field}"] = cleaned[field].notna().astype("float64")
    if present:
        out["form_completeness"] = out[[f"has_{f}" for f in present]].mean(axis=1)
    if "email" in cleaned:
        out = out.join(email_features(cleaned["email"]))
    if "phone" in cleaned:
        out = out.join(phone_features(cleaned["phone"], country))
    if "job_title" in cleaned:
        out["job_seniority"] = job_seniority(cleaned["job_title"])
        out["job_function"] = _first_match(cleaned["job_title"], FUNCTION_PATTERNS, "other")
    if "company_size" in cleaned:
        out["company_size_band"] = company_size_band(cleaned["company_size"])
    for field in ANSWER_FIELDS:
        if field in cleaned:
            out[field] = cleaned[field].str.lower()
    for field in declared:
        if field in cleaned:
            out[field] = cleaned[field]
    return out


def email_features(email: pd.Series) -> pd.DataFrame:
    """Syntax-valid address (``email-validator``, no DNS lookup) and free-mail domain.

    The local part and the domain are validated separately, each distinct value once: domains
    repeat across thousands of leads, and the domain check is most of the validator's cost.
    """
    parts = email.str.extract(r"^(.*)@([^@]*)$")
    domain = parts[1].str.lower()
    local_ok = per_distinct(parts[0], lambda local: _email_ok(f"{local}@example.com"))
    domain_ok = per_distinct(domain, lambda name: _email_ok(f"a@{name}"))
    fits = email.str.len() <= MAX_EMAIL_LENGTH
    valid = ((local_ok == 1) & (domain_ok == 1) & fits).astype("float64").where(email.notna())
    free = domain.isin(FREE_MAIL_DOMAINS).astype("float64").where(valid == 1)
    return pd.DataFrame({"email_is_valid": valid, "email_is_free": free}, index=email.index)


def phone_features(phone: pd.Series, country: pd.Series | None) -> pd.DataFrame:
    """Valid number (``phonenumbers``) and whether it belongs to the stated country."""
    region = country if country is not None else pd.Series(pd.NA, index=phone.index)
    keys = phone.where(phone.isna(), phone + "|" + region.fillna("").astype("str"))
    parsed = per_distinct(keys, _phone_region)
    valid = parsed.notna().astype("float64").where(phone.notna())
    match = (parsed == region).astype("float64").where(parsed.notna() & region.notna())
    return pd.DataFrame({"phone_is_valid": valid, "phone_country_match": match}, index=phone.index)


def job_seniority(title: pd.Series) -> pd.Series:
    return _first_match(title, SENIORITY_PATTERNS, "individual")


def company_size_band(size: pd.Series) -> pd.Series:
    """A band from "51-200", "120 employees" or "5000+" (the first number decides)."""
    number = pd.to_numeric(size.str.replace(",", "").str.extract(r"(\d+)")[0], errors="coerce")
    number = number + size.str.endswith("+").fillna(False).astype("float64")
    band = pd.cut(number, list(SIZE_EDGES), labels=list(SIZE_BANDS), right=True)
    return band.astype("object").where(band.notna()).astype("str")


def _first_match(text: pd.Series, patterns: tuple[tuple[str, str], ...], default: str):
    compiled = [(label, re.compile(p)) for label, p in patterns]

    def classify(value: str) -> str:
        lowered = value.lower()
        return next((label for label, p in compiled if p.search(lowered)), default)

    return per_distinct(text, classify).astype("str")


def _email_ok(address: str) -> float:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return 0.0
    return 1.0


def _phone_region(key: str) -> str | None:
    """The region a valid number belongs to, or None when it is not a valid number."""
    number, _, region = key.rpartition("|")
    try:
        parsed = phonenumbers.parse(number, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed)
