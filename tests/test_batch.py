"""Upserting the scores table: reruns replace, other nights' leads stay, a crash changes nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.batch import upsert_scores
from leadscore.scorer import SCORE_COLUMNS


def _scores(ids: list[str], probability: float) -> pd.DataFrame:
    now = pd.Timestamp("2026-10-01", tz="UTC")
    frame = pd.DataFrame({c: ["x"] * len(ids) for c in SCORE_COLUMNS})
    return frame.assign(lead_id=ids, as_of=now, scored_at=now, probability=probability, score=1,
                        model_probability=probability, fit_score=50.0)  # fmt: skip


def test_rerun_replaces_and_other_leads_keep_their_last_score(tmp_path):
    out = tmp_path / "scores.parquet"
    assert upsert_scores(_scores(["a", "b"], 0.1), out) == 0
    assert upsert_scores(_scores(["a", "b"], 0.1), out) == 0
    assert len(pd.read_parquet(out)) == 2  # the same night twice: no duplicates
    assert upsert_scores(_scores(["b", "c"], 0.7), out) == 1
    table = pd.read_parquet(out).set_index("lead_id")["probability"].sort_index()
    assert table.to_dict() == {"a": 0.1, "b": 0.7, "c": 0.7}


def test_a_crash_while_writing_leaves_the_previous_table_intact(tmp_path, monkeypatch):
    out = tmp_path / "scores.parquet"
    upsert_scores(_scores(["a"], 0.1), out)
    before = out.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash)
    with pytest.raises(KeyboardInterrupt):
        upsert_scores(_scores(["a", "b"], 0.9), out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]  # no temporary litter
