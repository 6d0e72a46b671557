"""Staged upserts and replacements on every kind of table: all of a night or none of it."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.data.tables import parse_table_uri, read_all
from leadscore.data.writers import open_writer
from support import TABLE_KINDS, table_uri, write_in_chunks


def _night(ids: list[str], value: float) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": ids, "probability": [value] * len(ids)})


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_upsert_replaces_reruns_and_keeps_other_leads(kind, tmp_path):
    uri = table_uri(kind, tmp_path, "scores")
    assert write_in_chunks(uri, _night(["a", "b", "c"], 0.1)) == 0
    assert write_in_chunks(uri, _night(["a", "b", "c"], 0.1)) == 0  # the same night again
    assert write_in_chunks(uri, _night(["c", "d"], 0.7)) == 2
    table = read_all(parse_table_uri(uri)).sort_values("lead_id")
    assert table["lead_id"].tolist() == ["a", "b", "c", "d"]
    assert table["probability"].astype(float).tolist() == [0.1, 0.1, 0.7, 0.7]
    assert (
        write_in_chunks(uri, _night(["z"], 0.5), key=None) == 0
    )  # replace, as the quarantine does
    assert read_all(parse_table_uri(uri))["lead_id"].tolist() == ["z"]


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_a_discarded_run_changes_nothing_and_leaves_no_staging(kind, tmp_path):
    uri = table_uri(kind, tmp_path, "scores")
    write_in_chunks(uri, _night(["a"], 0.1))
    before = sorted(p.name for p in tmp_path.iterdir())
    writer = open_writer(parse_table_uri(uri), _night([], 0.0), "lead_id")
    writer.append(_night(["a", "b"], 0.9))
    writer.discard()  # what a failed run does
    assert read_all(parse_table_uri(uri))["lead_id"].tolist() == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
