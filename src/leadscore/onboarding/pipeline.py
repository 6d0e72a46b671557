"""The ``dvc.yaml`` of a new table's pipeline: ``extract`` first, then the demo's stages without
``generate`` (and without the generator's truth), every path relative to the pipeline's folder.
DVC runs each ``cmd`` through a shell, so every path and URI the user gave is quoted
(:func:`shlex.quote`): a space, ``&`` or ``$(...)`` in it is text, never shell syntax.

Each stage's source dependencies come from :func:`leadscore.onboarding.dependencies.source_deps`,
the derivation the tests check every pipeline with, so none is written by hand.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import sqlalchemy as sa

from leadscore.data.tables import TableRef
from leadscore.onboarding.dependencies import SRC, dep_path, source_deps
from leadscore.redaction import is_secret_key

RAW, INTERIM, MODEL = "data/raw", "data/interim", "data/model"
FEATURES = "data/processed/features.parquet"
EXCLUDED = "data/processed/excluded_features.parquet"
SCORES = "data/processed/test_scores.parquet"
VALID_P = "data/processed/valid_predictions.parquet"
BUNDLE_FILES = ("features.json", "model.txt", "encoder.json", "calibration.json", "fit_rules.yaml")
CALIBRATION = ("mean_predicted", "fraction_positive")
PLOTS: tuple[tuple[str, str, str, str], ...] = (
    ("calibration", *CALIBRATION, "Reliability on held-out leads (after calibration)"),
    ("calibration_before", *CALIBRATION, "Reliability on held-out leads (before calibration)"),
    ("calibration_equal_mass", *CALIBRATION, "Reliability, equal-mass bins"),
    ("gain", "share_of_leads", "share_of_conversions", "Cumulative gain on held-out leads"),
    ("roc", "fpr", "tpr", "ROC on held-out leads"),
    ("precision_recall", "recall", "precision", "Precision-recall on held-out leads"),
    ("lift", "share_of_leads", "lift", "Lift on held-out leads"),
    ("thresholds", "threshold", "precision", "Precision by threshold on held-out leads"),
)


def uncached(*paths: str) -> list[dict]:
    return [{p: {"cache": False}} for p in paths]


def pipeline_stages(
    sources: dict[str, str],
    *,
    folder: Path,
    params: Path,
    fit_rules: Path,
    local: dict[str, Path],
) -> dict[str, dict]:
    """The stages of ``dvc.yaml`` in ``folder``: ``sources`` are the table URIs as the stage
    command gives them, ``local`` the ones that are files (deps DVC can hash)."""
    code = os.path.relpath(SRC / "leadscore", folder)
    params_file = os.path.relpath(params, folder)
    opt = f" --params {shlex.quote(params_file)}"
    tables = list(sources)
    raw = {t: f"{RAW}/{t}.parquet" for t in tables}
    given = "".join(f" --{t} {raw[t]}" for t in tables if t != "leads")

    def stage(verb: str, cmd: str, deps: list[str], keys: list[str] | None, **rest) -> dict:
        out: dict = {"cmd": f"leadscore {verb} {cmd}"}
        out["deps"] = deps + [dep_path(code, d) for d in source_deps(verb)]
        if keys:
            out["params"] = [{params_file: keys}]
        return out | rest

    # DVC runs each command through a shell: a path or URL is one quoted word, whatever it holds
    extract_args = " ".join(f"--{t} {shlex.quote(sources[t])}" for t in tables)
    stages = {
        "extract": stage(
            "extract",
            f"{extract_args} --out-dir {RAW} --metrics reports/extract.json",
            [os.path.relpath(p, folder) for p in local.values()],
            None,
            outs=list(raw.values()),
            metrics=uncached("reports/extract.json"),
        )
    }
    if len(local) < len(sources):  # a database: DVC cannot hash it, so ask it every time
        stages["extract"]["always_changed"] = True
    stages["validate"] = _validate(stage, sources, raw, given, opt)
    events = f" --events {INTERIM}/events.parquet" if "events" in sources else ""
    fit = os.path.relpath(fit_rules, folder)
    judging = _judging(stage, events, opt) | {"report": _report(stage, opt)}
    return stages | _learning(stage, events, opt, fit) | judging


WINDOW_KEYS = ("valid_fraction", "test_fraction", "valid_from", "test_from")


def _validate(stage, sources: dict[str, str], raw: dict[str, str], given: str, opt: str) -> dict:
    return stage(
        "validate",
        f"{raw['leads']}{given} --out-dir {INTERIM} --summary reports/validation.json "
        f"--audit reports/leakage_audit.json{opt}",
        list(raw.values()),
        ["schema", "validate", *(f"featurize.{k}" for k in WINDOW_KEYS)],
        outs=[f"{INTERIM}/leads.parquet", f"{INTERIM}/leads_quarantine.parquet"]
        + (
            [f"{INTERIM}/events.parquet", f"{INTERIM}/events_quarantine.parquet"]
            if "events" in sources
            else []
        )
        + ["reports/leakage_audit.json"],
        metrics=uncached("reports/validation.json"),
    )


BUNDLE = [f"{MODEL}/{f}" for f in BUNDLE_FILES]


def _learning(stage, events: str, opt: str, fit_rules: str) -> dict[str, dict]:
    bundle = BUNDLE
    interim = [f"{INTERIM}/leads.parquet"] + ([f"{INTERIM}/events.parquet"] if events else [])
    return {
        "featurize": stage(
            "featurize",
            f"{INTERIM}/leads.parquet{events} --audit reports/leakage_audit.json --out {FEATURES} "
            f"--excluded {EXCLUDED} --bundle {MODEL}{opt}",
            [*interim, "reports/leakage_audit.json"],
            ["schema", "featurize"],
            outs=[FEATURES, EXCLUDED, f"{MODEL}/features.json"],
        ),
        "train": stage(
            "train",
            f"--features {FEATURES} --bundle {MODEL} --valid-predictions {VALID_P}{opt}",
            [FEATURES],
            ["train"],
            outs=[
                f"{MODEL}/model.txt",
                f"{MODEL}/encoder.json",
                f"{MODEL}/run.json",
                VALID_P,
            ],
        ),
        "calibrate": stage(
            "calibrate",
            f"--features {FEATURES} --bundle {MODEL} --valid-predictions {VALID_P}{opt}",
            [FEATURES, *bundle[:3], f"{MODEL}/run.json", VALID_P, fit_rules],
            ["calibrate"],
            outs=bundle[3:],
        ),
    }


def _judging(stage, events: str, opt: str) -> dict[str, dict]:
    bundle = BUNDLE
    interim = [f"{INTERIM}/leads.parquet"] + ([f"{INTERIM}/events.parquet"] if events else [])
    return {
        "evaluate": stage(
            "evaluate",
            f"--features {FEATURES} --bundle {MODEL} --metrics reports/metrics.json --plots "
            f"reports/plots --scores {SCORES} --excluded {EXCLUDED}{opt}",
            [FEATURES, EXCLUDED, *bundle],
            ["evaluate", "train", "calibrate.thresholds"],
            outs=[SCORES],
            metrics=uncached("reports/metrics.json"),
            plots=[
                {f"reports/plots/{n}.csv": {"cache": False, "x": x, "y": y, "title": t}}
                for n, x, y, t in PLOTS
            ],
        ),
        "export": stage(
            "export",
            f"--bundle {MODEL} --features {FEATURES} --leads {INTERIM}/leads.parquet{events} "
            f"--metrics reports/metrics.json --out models/lead_scorer{opt}",
            [*interim, *bundle, FEATURES, "reports/metrics.json"],
            ["export", "schema"],
            outs=[
                *(f"{MODEL}/{f}" for f in ("metadata.json", "input_schema.json")),
                f"{MODEL}/drift_reference.json",
                f"{MODEL}/compiled",
                "models/lead_scorer",
            ],
        ),
    }


def _report(stage, opt: str) -> dict:
    return stage(
        "report",
        f"--metrics reports/metrics.json --scores {SCORES} --features {FEATURES} --plots "
        f"reports/plots --bundle {MODEL} --out-dir reports "
        f"--audit reports/leakage_audit.json{opt}",
        [
            "reports/metrics.json",
            "reports/leakage_audit.json",
            *(
                f"reports/plots/{n}.csv"
                for n in ("calibration", "calibration_before", "gain", "thresholds")
            ),
            SCORES,
            FEATURES,
            *BUNDLE,
            f"{MODEL}/metadata.json",
        ],
        ["report", "calibrate.thresholds"],
        outs=[
            f"reports/{f}"
            for f in (
                "model_report.html",
                "feature_importance.csv",
                "thresholds.csv",
                "calibration.csv",
            )
        ],
    )


def command_uri(ref: TableRef, folder: Path) -> str:
    """A table's URI as the stage (run in ``folder``) reads it: local paths relative to the
    folder, DuckDB and SQLite files absolute, and no password, neither in the user part nor in
    the query string (give it in the environment, e.g. ``PGPASSWORD``, so it never lands in
    ``dvc.yaml``)."""
    if ref.kind in ("parquet", "csv") and "://" not in ref.location:
        return os.path.relpath(Path(ref.location).resolve(), folder)
    if ref.kind == "duckdb":
        return f"duckdb:///{Path(ref.location).resolve()}#{ref.table}"
    if ref.kind == "sql":
        given = sa.make_url(ref.location)  # URL.set(password=None) would keep it
        query = {k: v for k, v in given.query.items() if not is_secret_key(k)}
        url = sa.URL.create(
            given.drivername, given.username, None, given.host, given.port, given.database, query
        )
        if url.get_backend_name() == "sqlite" and url.database:
            path, uri = url.database.removeprefix("file:"), url.database.startswith("file:")
            url = url.set(database=("file:" if uri else "") + str(Path(path).resolve()))
        return f"{url.render_as_string(hide_password=False)}#{ref.table}"
    return ref.location
