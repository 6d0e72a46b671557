"""Form-fill features: what the lead told us and how carefully, never the raw personal values.

Raw e-mail, names and phone only ever become flags (given, valid, free-mail, country match);
job titles become seniority and function, company sizes a size band.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadscore.features.cleaning import (
    Columns,
    clean_text,
    column,
    given,
    missing,
    per_distinct,
    where_given,
)

FORM_FIELDS: tuple[str, ...] = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "company",
    "website",
    "job_title",
    "company_size",
    "industry",
    "budget",
    "authority",
    "need",
    "timeline",
)
ANSWER_FIELDS: tuple[str, ...] = ("industry", "budget", "authority", "need", "timeline")
# Consumer mailbox providers: an address there says "private person" rather than "company".
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "gmx.de",
        "gmx.net",
        "hotmail.com",
        "hotmail.co.uk",
        "icloud.com",
        "live.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "rediffmail.com",
        "t-online.de",
        "web.de",
        "yahoo.co.in",
        "yahoo.co.uk",
        "yahoo.com",
        "yandex.ru",
        "zoho.com",
        "163.com",
    }
)
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
_NUMBER = re.compile(r"[0-9]+")
_ADDRESS = re.compile(r"(.*)@([^@]*)")


def form_features(
    leads: Columns,
    placeholders: Iterable[str],
    country: np.ndarray | None = None,
    declared: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """One row per lead: presence flags, completeness and the cleaned form answers.

    ``declared`` are a table's own form fields (``schema.form``): each gives a presence flag,
    its cleaned answer as the CRM spells it, and counts towards completeness.
    """
    present = [f for f in (*FORM_FIELDS, *declared) if f in leads]
    cleaned = {f: clean_text(column(leads, f), placeholders) for f in present}
    out = {f"has_{field}": given(cleaned[field]) for field in present}
    if present:
        given_fields = np.sum([out[f"has_{f}"] for f in present], axis=0)
        out["form_completeness"] = given_fields / len(present)
    if "email" in cleaned:
        out.update(email_features(cleaned["email"]))
    if "phone" in cleaned:
        out.update(phone_features(cleaned["phone"], country))
    if "job_title" in cleaned:
        out["job_seniority"] = job_seniority(cleaned["job_title"])
        out["job_function"] = _first_match(cleaned["job_title"], FUNCTION_PATTERNS, "other")
    if "company_size" in cleaned:
        out["company_size_band"] = company_size_band(cleaned["company_size"])
    for field in ANSWER_FIELDS:
        if field in cleaned:
            out[field] = per_distinct(cleaned[field], str.lower)
    for field in declared:
        if field in cleaned:
            out[field] = cleaned[field]
    return out


def email_features(email: np.ndarray) -> dict[str, np.ndarray]:
    """Syntax-valid address (``email-validator``, no DNS lookup) and free-mail domain.

    The local part and the domain are validated separately, each distinct value once: domains
    repeat across thousands of leads, and the domain check is most of the validator's cost.
    """
    parts = per_distinct(email, _address_parts)
    local = np.array([p and p[0] for p in parts], dtype=object)
    domain = np.array([p and p[1] for p in parts], dtype=object)
    fits = np.array([p is not None and p[2] for p in parts], dtype=bool)
    local_ok = per_distinct(local, lambda name: _email_ok(f"{name}@example.com")) == 1.0
    domain_ok = per_distinct(domain, _domain_ok) == 1.0
    valid = where_given((local_ok & domain_ok & fits).astype("float64"), ~missing(email))
    free = per_distinct(domain, FREE_MAIL_DOMAINS.__contains__).astype(bool)
    return {
        "email_is_valid": valid,
        "email_is_free": where_given(free.astype("float64"), valid == 1.0),
    }


def phone_features(phone: np.ndarray, country: np.ndarray | None) -> dict[str, np.ndarray]:
    """Valid number (``phonenumbers``) and whether it belongs to the stated country."""
    region = country if country is not None else np.full(len(phone), None, dtype=object)
    region_given = ~missing(region)
    phone_given = ~missing(phone)
    keys = np.where(phone_given, phone, "") + "|" + np.where(region_given, region, "")
    keys[~phone_given] = None
    parsed = per_distinct(keys, _phone_region)
    parsed_given = ~missing(parsed)
    match = (parsed == region).astype("float64")
    return {
        "phone_is_valid": where_given(parsed_given.astype("float64"), phone_given),
        "phone_country_match": where_given(match, parsed_given & region_given),
    }


def job_seniority(title: np.ndarray) -> np.ndarray:
    return _first_match(title, SENIORITY_PATTERNS, "individual")


def company_size_band(size: np.ndarray) -> np.ndarray:
    """A band from "51-200", "120 employees" or "5000+" (the first number decides)."""
    return per_distinct(size, _size_band)


def _size_band(size: str) -> str | None:
    found = _NUMBER.search(size.replace(",", ""))
    if found is None:
        return None
    number = float(found.group()) + (1.0 if size.endswith("+") else 0.0)
    upper = bisect.bisect_left(SIZE_EDGES, number)  # bands are (low, high], as pandas.cut's
    return SIZE_BANDS[upper - 1] if 0 < upper < len(SIZE_EDGES) else None


def _address_parts(email: str) -> tuple[str | None, str | None, bool]:
    """(local part, lower-cased domain, within the length limit) of an address."""
    found = _ADDRESS.fullmatch(email)
    fits = len(email) <= MAX_EMAIL_LENGTH
    if found is None:
        return None, None, fits
    return found.group(1), found.group(2).lower(), fits


def _first_match(text: np.ndarray, patterns: tuple[tuple[str, str], ...], default: str):
    compiled = [(label, re.compile(p)) for label, p in patterns]

    def classify(value: str) -> str:
        lowered = value.lower()
        return next((label for label, p in compiled if p.search(lowered)), default)

    return per_distinct(text, classify)


@lru_cache(maxsize=65_536)
def _domain_ok(domain: str) -> float:
    """Domains repeat across requests and chunks too (a few hundred mail providers): each is
    checked once per process."""
    return _email_ok(f"a@{domain}")


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
