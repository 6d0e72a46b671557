"""What every section of ``params.yaml`` shares: frozen models that refuse unknown keys, and the
checks several sections make of their values."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A section of ``params.yaml``: a misspelled key fails loudly instead of being ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def yaml_text(value: object) -> str:
    """A declared value as text. YAML reads an unquoted yes/no/true/false/on/off as a boolean,
    which could stand for ``YES`` or ``True`` or ``on``: that is refused, never guessed."""
    if isinstance(value, bool):
        raise ValueError(
            f"{value} is a YAML boolean: quote the value as the table writes it ('YES', 'True')"
        )
    return str(value)


def iso_moment(value: object, key: str) -> object:
    """A date in the config is ISO-8601 (``2018-04-01``): a config is never read day-first."""
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    try:
        datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{key}: {text!r} is not an ISO-8601 date such as 2018-04-01") from exc
    return text


def check_roles(value: dict[str, str], roles: tuple[str, ...], where: str) -> dict[str, str]:
    unknown = sorted(set(value) - set(roles))
    if unknown:
        raise ValueError(f"unknown role(s) {unknown} in {where}; known roles: {list(roles)}")
    return value


def non_negative_days(value: tuple[float, ...]) -> tuple[float, ...]:
    if not value or min(value) < 0:
        raise ValueError("must be a non-empty list of non-negative numbers of days")
    return tuple(sorted(set(value)))
