"""A URI's password is masked wherever it stands in a text: the user part, the query string, an
unencoded '@' inside it; what holds no secret is left as it was."""

from __future__ import annotations

import logging

import pytest

from leadscore.redaction import RedactingFilter, is_secret_key, redact

CASES = {
    "postgresql+psycopg://me:s3cret@db:5432/crm#leads": "postgresql+psycopg://me:***@db:5432/crm#leads",
    "postgresql+psycopg://me:s3%23c%40ret@db/crm": "postgresql+psycopg://me:***@db/crm",
    "postgresql+psycopg://me:s3c@ret@db/crm#leads": "postgresql+psycopg://me:***@db/crm#leads",
    "postgresql://me@db/crm?sslmode=require&password=s3cret#x": "postgresql://me@db/crm?sslmode=require&password=***#x",
    "mssql://db/crm?PWD=s3cret;user=me": "mssql://db/crm?PWD=***;user=me",
    "s3://bucket/leads.parquet?token=s3cret&region=eu": "s3://bucket/leads.parquet?token=***&region=eu",
    "error at https://me:s3cret@host/x, retrying": "error at https://me:***@host/x, retrying",
    "sqlite:///mlflow.db": "sqlite:///mlflow.db",
    "postgresql://me@db:5432/crm#leads": "postgresql://me@db:5432/crm#leads",
    "duckdb:///crm.duckdb#leads by me@example.com": "duckdb:///crm.duckdb#leads by me@example.com",
}  # fmt: skip


@pytest.mark.parametrize("text", CASES)
def test_redact_masks_passwords_and_nothing_else(text):
    assert redact(text) == CASES[text]
    assert "s3" not in redact(text).replace("s3://", "")


def test_secret_query_keys_are_known_by_name():
    assert all(map(is_secret_key, ["password", "sslpassword", "PWD", "api_key", "token"]))
    assert not any(map(is_secret_key, ["sslmode", "host", "timeout", "application_name"]))


def test_a_log_record_never_shows_the_password(caplog):
    logger = logging.getLogger("leadscore.test_redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("reading %s", "postgresql://me:s3cret@db/crm#leads")
    assert caplog.messages == ["reading postgresql://me:***@db/crm#leads"]
