"""Training on a sample: every converter, a seeded share of the non-converters, reweighted.

A featurized table far larger than memory still trains a model: it is read in batches and only
the validation window and the training window's sample are kept (the test window is not read).
Each kept non-converter stands for ``1 / fraction`` of them as its LightGBM weight, so the
weighted training loss is the whole window's in expectation and the probabilities stay
calibrated. The draw is a keyed hash of the lead id: the same table and seed always give the same
sample whatever the batch size, and a lead's snapshots are kept or dropped together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.data.files import read_table

BATCH_ROWS = 500_000


def keep_mask(lead_ids: pd.Series, labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """True for every converter and for the non-converters whose lead falls in the fraction."""
    key = f"{seed % 10**16:016d}"  # pandas' hash key: 16 characters
    hashed = pd.util.hash_pandas_object(lead_ids.astype("str"), index=False, hash_key=key)
    return (np.asarray(labels) == 1) | (hashed.to_numpy() / 2.0**64 < fraction)


def sample_weights(labels: np.ndarray, fraction: float) -> np.ndarray:
    """1 for converters, ``1 / fraction`` for the kept non-converters."""
    return np.where(np.asarray(labels) == 1, 1.0, 1.0 / fraction)


def read_training_table(path: Path, *, fraction: float, seed: int) -> tuple[pd.DataFrame, int]:
    """The training and validation windows, the former sampled; and its size before sampling.

    With ``fraction`` 1 this is the whole table, read as before.
    """
    if fraction >= 1:
        table = read_table(path)
        return table, int((table["split"] == "train").sum())
    frames, train_rows = [], 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        frame = pa.Table.from_batches([batch]).to_pandas()
        train = (frame["split"] == "train").to_numpy()
        train_rows += int(train.sum())
        kept = keep_mask(frame["lead_id"], frame["label"].to_numpy(), fraction, seed)
        frames.append(frame[(frame["split"] == "valid").to_numpy() | (train & kept)])
    return pd.concat(frames, ignore_index=True), train_rows


def describe(rows: int, kept: int, fraction: float, seed: int) -> dict:
    """The policy and its effect, for metrics.json, MLflow and the report."""
    return {
        "non_converter_fraction": fraction,
        "non_converter_weight": 1.0 / fraction,
        "seed": seed,
        "train_rows": rows,
        "train_rows_kept": kept,
    }
