"""extract: snapshot the source tables (files, DuckDB, any SQL database) into Parquet under
``data/raw``, with their row counts and fingerprints as DVC metrics, so ``dvc.lock`` records which
data trained the model and a rerun picks up new rows."""

from __future__ import annotations

from pathlib import Path

from leadscore.data.extraction import snapshot_table
from leadscore.data.files import write_json
from leadscore.data.tables import parse_table_uri


def run(sources: dict[str, str], *, out_dir: Path, metrics_path: Path, chunk_size: int) -> dict:
    """``sources``: table name (leads, events, outcomes) -> its URI."""
    refs = {name: parse_table_uri(uri) for name, uri in sources.items()}
    metrics = {
        name: {"source": str(ref)}
        | snapshot_table(ref, out_dir / f"{name}.parquet", chunk_size=chunk_size)
        for name, ref in refs.items()
    }
    write_json(metrics, metrics_path)
    return metrics
