"""Database writes of a nightly scores table: `leadscore score`'s writer against a bulk load.

    python benchmarks/writes.py [--rows 1000000] [--chunk-size 100000] [--postgres URL]

Takes ``--rows`` rows shaped like the scores table (the columns and types `leadscore score`
writes; generated once into benchmarks/.cache/ as Parquet), read into pandas chunks of
``--chunk-size`` before any clock starts (what `score` hands its writer), and, in the same run:

- PostgreSQL (``--postgres``, default ``$LEADSCORE_TEST_POSTGRES_URL``): the writer
  (``open_writer``, the chunks appended, then the commit) into an empty table (the first
  night); again into that table holding the same keys (a later night: every row upserted;
  the table has no unique index, so the rows are COPY-ed into it and the earlier ones deleted);
  and once more after a primary key on ``lead_id`` was added (the upsert is then a temporary
  staging table and ``INSERT ... ON CONFLICT``). The baseline is a
  plain ``COPY ... FROM STDIN`` of the same rows, from a CSV file written before the clock
  starts, into an empty table of the same columns;
- DuckDB (a file in a temporary folder): the writer the first two ways; the baseline is
  ``CREATE TABLE ... AS SELECT * FROM read_parquet(...)`` of the same Parquet file.

Prints each figure with its baseline and ratio and writes benchmarks/results/writes.json, with
the load average at the start and the end and, per database, before its first write.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import sqlalchemy as sa
from recording import RESULTS, comparison, load_average, record

from leadscore.data.tables import TableRef, duckdb_connection
from leadscore.data.writers import open_writer
from leadscore.scoring.scorer import SCORE_COLUMNS

CACHE = Path(__file__).parent / ".cache"


def prepare(rows: int, seed: int = 1) -> Path:
    """A scores table of ``rows`` leads with `leadscore score`'s columns and types."""
    path = CACHE / f"scores-{rows}-{seed}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    probability = rng.beta(1, 9, rows)
    bands = np.array(["A", "B", "C", "D"])
    grades = np.array(["fit A", "fit B", "fit C"])
    reasons = np.array(["", "opened pricing page 3 times; works at a large company", "new lead"])
    frame = pd.DataFrame(
        {
            "lead_id": pd.array([f"L{i:09d}" for i in range(rows)], dtype="str"),
            "as_of": pd.Timestamp("2026-10-01", tz="UTC"),
            "probability": probability,
            "score": np.round(probability * 100).astype("int64"),
            "model_probability": probability * 0.9,
            "fit_score": rng.random(rows),
            "fit_grade": pd.array(grades[rng.integers(0, 3, rows)], dtype="str"),
            "band": pd.array(bands[rng.integers(0, 4, rows)], dtype="str"),
            "reasons": pd.array(reasons[rng.integers(0, 3, rows)], dtype="str"),
            "fit_rules": pd.array(np.full(rows, "industry=software"), dtype="str"),
            "model_version": "lead_scorer/7",
            "scored_at": pd.Timestamp("2026-10-01T02:00:00", tz="UTC"),
        }
    )
    assert tuple(frame.columns) == SCORE_COLUMNS
    CACHE.mkdir(exist_ok=True)
    frame.to_parquet(path)
    return path


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def chunks_of(scores: Path, chunk_size: int) -> list[pd.DataFrame]:
    """The scores as the pandas chunks `leadscore score` hands its writer."""
    batches = pq.ParquetFile(scores).iter_batches(batch_size=chunk_size)
    return [batch.to_pandas() for batch in batches]


def write_with_writer(ref: TableRef, chunks: list[pd.DataFrame]) -> None:
    """What `leadscore score` does with its scores: append chunk by chunk, then commit."""
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in SCORE_COLUMNS})
    writer = open_writer(ref, empty, key="lead_id")
    for chunk in chunks:
        writer.append(chunk)
    writer.commit()


def postgres(url: str, scores: Path, chunks: list[pd.DataFrame], folder: Path) -> list[dict]:
    engine = sa.create_engine(url)
    target, plain = "bench_scores", "bench_scores_copy"
    with engine.begin() as conn:
        for table in (target, f"{target}__staging", plain):
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
        # the baseline's empty table, typed as the writer's (pandas') table is
        pd.read_parquet(scores).head(0).to_sql(plain, conn, index=False)
    csv = folder / "scores.csv"
    pa_csv.write_csv(
        pq.read_table(scores), csv, write_options=pa_csv.WriteOptions(include_header=False)
    )
    columns = ", ".join(f'"{c}"' for c in SCORE_COLUMNS)

    def copy() -> None:
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            copy_sql = f'COPY "{plain}" ({columns}) FROM STDIN WITH (FORMAT csv)'
            with cursor.copy(copy_sql) as out, csv.open("rb") as source:
                while block := source.read(1 << 20):
                    out.write(block)

    ref = TableRef("sql", url, target)
    first = timed(lambda: write_with_writer(ref, chunks))
    upsert = timed(lambda: write_with_writer(ref, chunks))
    with engine.begin() as conn:  # a key the catalog shows: the upsert becomes ON CONFLICT
        conn.execute(sa.text(f'ALTER TABLE "{target}" ADD PRIMARY KEY (lead_id)'))
    keyed = timed(lambda: write_with_writer(ref, chunks))
    baseline = timed(copy)
    with engine.begin() as conn:
        counts = [conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in
                  (target, plain)]  # fmt: skip
        for table in (target, plain):
            conn.execute(sa.text(f'DROP TABLE "{table}"'))
    rows = pq.read_metadata(scores).num_rows
    assert counts == [rows, rows], f"written {counts}, expected {rows} each"
    plain = ("plain COPY (s)", baseline)
    return [
        comparison("postgresql writer, first night (s)", first, *plain),
        comparison("postgresql writer, upsert of every row, no unique index (s)", upsert, *plain),
        comparison("postgresql writer, upsert of every row, primary key (s)", keyed, *plain),
    ]


def duckdb(scores: Path, chunks: list[pd.DataFrame], folder: Path) -> list[dict]:
    path = folder / "bench.duckdb"
    ref = TableRef("duckdb", str(path), "scores")
    first = timed(lambda: write_with_writer(ref, chunks))
    upsert = timed(lambda: write_with_writer(ref, chunks))
    con = duckdb_connection(str(path)).cursor()
    source = str(scores).replace("'", "''")
    baseline = timed(
        lambda: con.execute(f"CREATE TABLE plain AS SELECT * FROM read_parquet('{source}')")
    )
    plain = ("CREATE TABLE ... AS SELECT from Parquet (s)", baseline)
    return [
        comparison("duckdb writer, first night (s)", first, *plain),
        comparison("duckdb writer, upsert of every row (s)", upsert, *plain),
    ]


def with_load(figures: list[dict], load: list[float]) -> list[dict]:
    """``figures``, each with the load average taken before its database's first write."""
    return [{**figure, "load_average_before": load} for figure in figures]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("LEADSCORE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("--postgres URL (or LEADSCORE_TEST_POSTGRES_URL) is needed")
    load = load_average()
    scores = prepare(args.rows)
    chunks = chunks_of(scores, args.chunk_size)
    with tempfile.TemporaryDirectory(prefix="run-", dir=CACHE) as tmp:
        figures = with_load(postgres(args.postgres, scores, chunks, Path(tmp)), load)
        figures += with_load(duckdb(scores, chunks, Path(tmp)), load_average())
    result = {"rows": args.rows, "chunk_size": args.chunk_size}
    record(RESULTS / "writes.json", result, figures, load_at_start=load)


if __name__ == "__main__":
    main()
