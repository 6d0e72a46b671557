"""Writing what ``leadscore init`` proposes: ``params.yaml`` with a comment on every guess, the
starting fit rules and the pipeline's ``dvc.yaml``. A file that exists is never replaced unless
the user says so (``--force``): it may hold their edits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from leadscore.data.files import atomic_output
from leadscore.data.tables import TableRef
from leadscore.errors import ConfigError
from leadscore.onboarding.pipeline import command_uri, pipeline_stages
from leadscore.onboarding.proposal import Proposal

YAML_WORDS = ("yes", "no", "y", "n", "true", "false", "on", "off", "null", "none")
# what ends a line for YAML or a reader (NEL, LINE and PARAGRAPH SEPARATOR too), and the other
# control characters
LINE_BREAKS = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
LISTED = ("after_contact", "id_from", "exclude")  # lists written an item a line, each noted
COMMENT_AT = 34  # the column comments start at, as in the repository's own params.yaml
DEFAULTS: dict[str, dict] = {
    "validate": {
        "max_reject_rate": 0.05,
        "future_tolerance_hours": 24,
        "leakage_threshold": 0.85,
        "keep": [],
        "created_from": None,
    },
    "featurize": {
        "snapshot_ages_days": [0, 1, 7],
        "horizon_days": 30,
        "valid_fraction": 0.2,
        "test_fraction": 0.2,
        "valid_from": None,
        "test_from": None,
    },
    "train": {"tuning_trials": 15, "refit": False},
    "evaluate": {"ece_bins": 15},
    "report": {"top_features": 15},
}
SECTION_NOTES: dict[str, str] = {
    "validate.created_from": "leads created earlier are out of scope (counted, not errors)",
    "validate.keep": "after-contact or flagged columns to use anyway (not advised)",
    "featurize.horizon_days": "label: converted within this many days after the snapshot",
    "featurize.test_fraction": "the latest leads, held out; or set test_from (a date or value)",
    "featurize.valid_from": "null: by fraction; or where the window starts",
    "train.tuning_trials": "Optuna trials on the validation window (0: off, faster)",
    "calibrate.thresholds.policy": "capacity needs dates (leads per day); else expected_value",
}


def render_params(proposal: Proposal, *, name: str, source: str, rows: int) -> str:
    """``params.yaml`` text: the proposal, the stage sections' defaults, a comment per guess."""
    sections = proposal.params | {k: v | proposal.params.get(k, {}) for k, v in DEFAULTS.items()}
    notes = proposal.notes | SECTION_NOTES
    head = [
        f"# leadscore parameters for '{name}', proposed by `leadscore init` from the first "
        f"{rows:,} rows of",
        f"#   {_one_line(source)}",
        "# Every guess says why it was made; check each against your CRM, edit, then run the",
        f"# pipeline: dvc repro pipelines/{name}/dvc.yaml  (keys are those of the demo's",
        "# params.yaml; an unknown or misspelled key is an error that names it)",
    ]
    head += [f"# TODO: {_one_line(t)}" for t in proposal.todo]
    lines = _block(sections, (), notes)
    return "\n".join([*head, "", *lines]) + "\n"


def _block(mapping: dict, path: tuple[str, ...], notes: dict[str, str]) -> list[str]:
    lines, indent = [], "  " * len(path)
    for key, value in mapping.items():
        where = ".".join((*path, str(key)))
        note = notes.get(where) or notes.get(_item_note(path, key))
        label = f"{indent}{_key(key)}:"
        if isinstance(value, dict) and value:
            lines.append(_commented(label, note))
            lines += _block(value, (*path, str(key)), notes)
        elif isinstance(value, list) and value and path[-1:] == ("schema",) and key in LISTED:
            lines.append(_commented(label, note))
            for item in value:
                lines.append(_commented(f"{indent}  - {_scalar(item)}", notes.get(f"{key}:{item}")))
        else:
            lines.append(_commented(f"{label} {_scalar(value)}", note))
    return lines


def _item_note(path: tuple[str, ...], key: object) -> str:
    return f"dates:{key}" if path[-2:] == ("dates", "columns") else ""


def _commented(line: str, note: str | None) -> str:
    if not note:
        return line
    return f"{line.ljust(COMMENT_AT - 1)} # {_one_line(note)}"


def _one_line(text: str) -> str:
    """A comment's text on one line: a line break in a column name (or any control character)
    is written as its escape, so it can never end the comment and start a YAML key."""
    return LINE_BREAKS.sub(lambda m: json.dumps(m[0])[1:-1], text)


def _key(key: object) -> str:
    """A plain key where YAML reads it back as the same text, else a quoted one."""
    text = str(key)
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]*", text) and text.lower() not in YAML_WORDS
    return text if plain and text == text.strip() else _scalar(text)


def _scalar(value: object) -> str:
    """A YAML value that reads back exactly: JSON is YAML, and quoting every text keeps
    ``YES`` or ``No`` from becoming booleans."""
    return "{}" if value == {} else json.dumps(value, ensure_ascii=False)


def render_fit_rules(rules: dict, *, name: str) -> str:
    head = (
        f"# Fit rules for '{name}', a starting point from `leadscore init`: who sales wants, in\n"
        "# points (format: config/fit_rules.yaml). Fields are the declared columns' feature\n"
        "# names in config/{name}/params.yaml, values as the CRM writes them. With a label in the\n"
        "# sample, points follow each value's conversion rate in the sample's training share\n"
        "# (never the held-out leads); edit them to say what sales wants.\n"
    ).replace("{name}", name)
    return head + yaml.safe_dump(rules, sort_keys=False, allow_unicode=True, width=100)


def render_pipeline(stages: dict, *, name: str) -> str:
    head = (
        f"# The leadscore pipeline for '{name}', written by `leadscore init`: extract snapshots\n"
        "# the source table(s) into data/raw, then the demo's stages run on the snapshot.\n"
        f"# Parameters: config/{name}/params.yaml. Run: dvc repro pipelines/{name}/dvc.yaml\n"
        "# Source deps come from the code (leadscore.onboarding.dependencies): after an\n"
        "# upgrade, `leadscore init ... --force` rewrites them.\n"
    )
    return head + yaml.safe_dump({"stages": stages}, sort_keys=False, width=100)


def project_files(
    proposal: Proposal, fit_rules: dict, refs: dict[str, TableRef], *, name: str, rows: int
) -> dict[Path, str]:
    """Every file of a new table's setup, by path from the repository root."""
    config, folder = Path("config") / name, Path("pipelines") / name
    dated = "created_at" in proposal.params["schema"]["leads"]
    proposal.params["calibrate"] = {
        "fit_rules": f"../../{config}/fit_rules.yaml",
        "thresholds": {"policy": "capacity" if dated else "expected_value"},
    }
    proposal.params["export"] = {"registered_model_name": f"lead-scorer-{name}"}
    local = {
        t: Path(r.location)
        for t, r in refs.items()
        if r.kind in ("parquet", "csv") and "://" not in r.location
    }
    stages = pipeline_stages(
        {t: command_uri(ref, folder.resolve()) for t, ref in refs.items()},
        folder=folder.resolve(),
        params=(config / "params.yaml").resolve(),
        fit_rules=(config / "fit_rules.yaml").resolve(),
        local=local,
    )
    return {
        config / "params.yaml": render_params(
            proposal, name=name, source=str(refs["leads"]), rows=rows
        ),
        config / "fit_rules.yaml": render_fit_rules(fit_rules, name=name),
        folder / "dvc.yaml": render_pipeline(stages, name=name),
        folder / ".gitignore": "/mlflow.db\n/data/\n/models/\n/reports/\n/mlruns/\n",
    }


def write_files(files: dict[Path, str], *, force: bool) -> list[str]:
    """Write every file, or none: an existing one without ``force`` is an error naming it."""
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{existing[0]} exists and may hold your edits: leadscore init does not replace it "
            "(pass --force to overwrite " + ", ".join(str(p) for p in existing) + ")"
        )
    for path, text in files.items():
        with atomic_output(path) as tmp:
            Path(tmp).write_text(text)
    return [str(p) for p in files]
