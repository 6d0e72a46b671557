"""Errors a user can act on, each with the process exit code the CLI returns for it.

Exit codes are part of the batch contract: a scheduler tells "fix the arguments" from
"the input is unreadable" from "too much of tonight's table was rejected" without parsing logs.
"""

from __future__ import annotations


class LeadscoreError(Exception):
    exit_code = 1


class ConfigError(LeadscoreError, ValueError):
    """A parameter or rule file that cannot be used; the message names the file and the key."""

    exit_code = 2


class InputError(LeadscoreError, OSError):
    """An input that cannot be read at all (missing file, unknown format)."""

    exit_code = 3


class OutputError(LeadscoreError, OSError):
    """An output that cannot be written: a folder, read-only, unreachable, or being written by
    another run. Found before any lead is scored; the previous output is untouched."""

    exit_code = 3


class SchemaError(LeadscoreError, ValueError):
    """A table that lacks a required column; the message names it and lists what was found."""

    exit_code = 4


class RejectRateError(LeadscoreError):
    """More rows were quarantined than the configured maximum share allows."""

    exit_code = 5


class EmptyInputError(LeadscoreError, ValueError):
    """A table with no usable rows, where rows are needed."""

    exit_code = 6


class PromotionRefused(LeadscoreError):
    """The candidate model does not beat the champion by the configured margin."""

    exit_code = 7


class DriftError(LeadscoreError):
    """Tonight's table drifted past the threshold and the run was asked to fail on drift."""

    exit_code = 8


class RetrainSignal(LeadscoreError):
    """``monitor``: the latest complete window's realized performance is below the thresholds
    in params (``monitor:``); its report is written."""

    exit_code = 9
