"""What every batch-table writer shares: rows appended as Arrow tables, published all at once.

A writer turns each appended chunk into Arrow with the first chunk's schema, stages it (in a
local Parquet file, or straight into a database's staging table inside a transaction nobody else
sees), and publishes everything in one step; whatever happens before that step, the published
table stays as it was. The subclasses in :mod:`leadscore.data.writers` and
:mod:`leadscore.data.database_writers` say how to stage and how to publish.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.data.staging import Lock, create_file
from leadscore.data.tables import TableRef, as_error, count_rows, read_chunks
from leadscore.errors import OutputError


def unwritable(ref: TableRef) -> AbstractContextManager[None]:
    """What the storage libraries raise while writing ``ref``, as one :class:`OutputError`."""
    return as_error(ref, OutputError, "cannot be written")


class Writer(ABC):
    """Rows appended in chunks (see :class:`leadscore.data.writers.TableWriter`)."""

    def __init__(
        self,
        ref: TableRef,
        empty: pd.DataFrame,
        key: str | None,
        staging: Path,
        personal: bool,
        lock: Lock | None,
    ) -> None:
        self.ref, self.empty, self.key, self.staging = ref, empty, key, staging
        self.personal, self.lock = personal, lock
        self.schema: pa.Schema | None = None  # the first chunk's, kept for every later one
        self.rows = 0
        self.check()

    @abstractmethod
    def check(self) -> None:
        """Fail unless the target can be written (before any row is staged)."""

    @abstractmethod
    def stage(self, table: pa.Table) -> None:
        """Keep ``table``'s rows until the commit, where no reader of the target sees them."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the target exists."""

    @abstractmethod
    def publish(self) -> int:
        """Make the staged rows the target's, in one step; how many earlier rows were kept."""

    @abstractmethod
    def drop(self) -> None:
        """Forget whatever is staged (after a commit too)."""

    def append(self, frame: pd.DataFrame) -> None:
        with unwritable(self.ref):
            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            self.schema = table.schema
            self.stage(table)
        self.rows += len(frame)

    def commit(self) -> int:
        """Publish the staged rows; return how many rows of the existing table were kept.

        An upsert of no row (a night whose every lead was rejected) leaves an existing table as
        it is; a replacement by no row leaves an empty table with the columns of ``empty``.
        """
        try:
            if self.schema is None:
                self.append(self.empty)
            with unwritable(self.ref):
                if self.key is not None and self.rows == 0 and self.exists():
                    return self._rows()
                return self.publish()
        finally:
            self.discard()

    def _rows(self) -> int:
        """The rows of the existing target."""
        counted = count_rows(self.ref)
        return counted if counted is not None else sum(map(len, read_chunks(self.ref, 100_000)))

    def discard(self) -> None:
        """Drop whatever is staged and not committed (a no-op after :meth:`commit`)."""
        try:
            self.drop()
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None


class ParquetStage:
    """A local Parquet file holding a writer's rows until it publishes them (created empty, and
    readable by its owner only, when the writer opens: whatever a killed run left is replaced)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None
        create_file(path, private=True)

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)

    def finished(self) -> pq.ParquetFile:
        """The staged file, closed for writing (at least one table was written)."""
        assert self.writer is not None, "commit stages the empty frame when nothing came"
        self.writer.close()
        return pq.ParquetFile(self.path)

    def tables(self) -> Iterator[pa.Table]:
        """The staged rows, a batch at a time (one empty table when none was staged)."""
        staged = self.finished()
        if staged.metadata.num_rows == 0:
            yield staged.schema_arrow.empty_table()
        for batch in staged.iter_batches():
            yield pa.Table.from_batches([batch])

    def remove(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.path.unlink(missing_ok=True)
