"""Scoring a table partitioned by lead id on a real 2-worker Dask LocalCluster (two processes)
gives the single-machine path's scores, quarantine and summary; a table that is not partitioned
by lead id is refused before any work, with its own exit code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from leadscore.data.partitions import PartitioningError
from leadscore.data.tables import parse_table_uri
from leadscore.errors import RejectRateError
from leadscore.monitoring.runs import COUNTS
from leadscore.scoring.artifact import load_scorer
from leadscore.scoring.batch import score_tables
from leadscore.scoring.dask_batch import score_partitioned
from leadscore.scoring.options import ScoringOptions
from support import run

pytestmark = pytest.mark.slow
AS_OF = pd.Timestamp("2026-10-01", tz="UTC")
SUMMARY_KEYS = ("read", "scored", "quarantined", "events_read", "events_quarantined",
                "events_skipped", "bands", "drift_psi")  # fmt: skip


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        yield client


@pytest.fixture(scope="module")
def tables(project) -> tuple[pd.DataFrame, pd.DataFrame]:
    """1,000 demo leads, sorted by lead id, with malformed leads and events and orphan events."""
    root = project[0]
    leads = pd.read_parquet(root / "data/raw/leads.parquet").head(1000)
    leads = leads.astype({"created_at": "str"}).reset_index(drop=True)
    leads.loc[3, "lead_id"] = None  # missing_lead_id
    leads.loc[5, "created_at"] = "not a date"  # unparseable_created_at
    leads = pd.concat([leads, leads.iloc[[40, 41]]], ignore_index=True)  # duplicate_lead_id
    leads = leads.sort_values("lead_id", kind="stable", na_position="first").reset_index(drop=True)
    events = pd.read_parquet(root / "data/raw/events.parquet")
    events = events[events["lead_id"].isin(leads["lead_id"])].astype({"ts": "str"})
    events = events.sort_values("lead_id", kind="stable").reset_index(drop=True)
    events.loc[7, "ts"] = "garbage"  # event:unparseable_ts
    orphans = events.iloc[[0, 1]].assign(lead_id=["zzzz-no-such-lead", leads["lead_id"].min()
                                                  + "-orphan"])  # fmt: skip
    events = pd.concat([events, orphans], ignore_index=True).sort_values("lead_id", kind="stable")
    return leads, events.reset_index(drop=True)


def _split(frame: pd.DataFrame, parts: int, folder: Path) -> Path:
    """Files of consecutive lead ids (a lead's rows never in two files), in lead id order."""
    ids = frame["lead_id"].fillna("")
    rank = pd.Index(ids.unique()).sort_values().get_indexer(ids)
    folder.mkdir()
    for k, part in frame.groupby(rank * parts // (rank.max() + 1), sort=True):
        part.to_parquet(folder / f"part-{k:03d}.parquet", index=False)
    return folder


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns[:2]), kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(project, tables, tmp_path_factory) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The single-machine path on the same rows in the same order, one file each."""
    folder = tmp_path_factory.mktemp("single")
    leads, events = tables
    leads.to_parquet(folder / "leads.parquet", index=False)
    events.to_parquet(folder / "events.parquet", index=False)
    refs = [parse_table_uri(folder / f"{n}.parquet") for n in ("leads", "events", "scores")]
    scorer = load_scorer(project[0] / "models/lead_scorer")
    options = ScoringOptions(as_of=AS_OF, max_reject_rate=0.2, chunk_size=150)
    summary = score_tables(scorer, *refs, options=options)
    scores = pd.read_parquet(folder / "scores.parquet")
    return summary, _sorted(scores), _sorted(pd.read_parquet(folder / "scores_quarantine.parquet"))


def test_dask_scores_a_partitioned_table_like_the_single_machine_path(
    client, project, tables, reference, tmp_path
):
    leads_dir = _split(tables[0], 4, tmp_path / "leads")
    events_dir = _split(tables[1], 3, tmp_path / "events")  # other boundaries than the leads'
    out = tmp_path / "scores"
    artifact = project[0] / "models/lead_scorer"
    options = ScoringOptions(as_of=AS_OF, max_reject_rate=0.2, chunk_size=150)
    summary = score_partitioned(
        artifact, str(leads_dir), str(events_dir), str(out), options=options, client=client
    )
    expected_summary, expected, expected_quarantine = reference
    assert {k: summary[k] for k in SUMMARY_KEYS} == {k: expected_summary[k] for k in SUMMARY_KEYS}
    assert summary["events_skipped"] >= 2  # the orphan events at least
    assert (summary["partitions"], summary["workers"]) == (4, 2)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in leads_dir.iterdir())
    got = _sorted(pd.read_parquet(out))
    assert len(got) == summary["scored"] == got["lead_id"].nunique()
    np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(got.drop(columns="scored_at"), expected.drop(columns="scored_at"))
    quarantine = _sorted(pd.read_parquet(tmp_path / "scores_quarantine"))
    pd.testing.assert_frame_equal(quarantine, expected_quarantine)
    assert {"missing_lead_id", "unparseable_created_at", "duplicate_lead_id",
            "event:unparseable_ts"} <= set(quarantine["reason"])  # fmt: skip
    assert json.loads((tmp_path / "scores_drift.json").read_text()) == summary["drift_psi"]
    runs = pd.read_parquet(summary["runs"])  # beside the scores folder, as on one machine
    single = pd.read_parquet(expected_summary["runs"])
    same = [c for c in single if c.startswith(("share_", "score_p", "psi_", "drift_"))]
    pd.testing.assert_frame_equal(runs[["night", *COUNTS, *same]],
                                  single[["night", *COUNTS, *same]])  # fmt: skip
    assert (summary["runs"], runs["engine"].tolist()) == (f"{out}_runs.parquet", ["dask"])

    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RejectRateError):
        strict = ScoringOptions(as_of=AS_OF, max_reject_rate=0.0)
        score_partitioned(
            artifact, str(leads_dir), str(events_dir), str(out), options=strict, client=client
        )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # last night's scores stay
    # no staging left; the outputs' lock files stay (empty)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.suffix != ".lock"]


def test_a_table_not_partitioned_by_lead_id_is_refused_before_any_work(project, tables, tmp_path):
    root, env = project
    leads = tables[0].iloc[10:].sample(frac=1.0, random_state=1)  # no missing id: all ranged
    folder = tmp_path / "leads"
    folder.mkdir()
    for k in range(3):
        leads.iloc[k::3].to_parquet(folder / f"part-{k}.parquet", index=False)
    with pytest.raises(PartitioningError, match="not partitioned by lead id"):
        score_partitioned(
            root / "models/lead_scorer",
            str(folder),
            None,
            str(tmp_path / "out"),
            options=ScoringOptions(as_of=AS_OF),
            scheduler="tcp://127.0.0.1:1",
        )
    model = str(root / "models/lead_scorer")
    cmd = ["leadscore", "score", "--engine", "dask", "--model", model, "--leads", str(folder),
           "--out", str(tmp_path / "out"), "--as-of", "2026-10-01"]  # fmt: skip
    done = run(cmd, tmp_path, env, check=False)
    assert done.returncode == 3, done.stderr
    assert "not partitioned by lead id" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads"]  # nothing written
