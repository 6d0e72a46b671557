"""Where a batch output stages its rows and holds its lock, and files only their owner reads.

A writer stages its rows in a Parquet file until it publishes them (see
:mod:`leadscore.data.writers`), and holds a lock on its output meanwhile, so that a second run
writing the same output stops at once instead of racing the first. Both live in a place the
next run for the same output finds again, so a run that was killed leaves nothing that the
next one does not remove:

- a file output: beside the file (``.<name>__staging.parquet``, ``.<name>.lock``);
- a table in a DuckDB or SQLite file: beside the database file, named after the table;
- a table on a database server: ``$LEADSCORE_STAGING_DIR`` (default ``leadscore-staging-<uid>``
  in the system's temporary folder, readable by its owner only), under a name derived from the
  URL and the table. On PostgreSQL the lock is an advisory lock of the database itself, so it
  holds across machines.

Every lock is one the operating system (or PostgreSQL) releases when its process ends, however
it ends: a run that was killed never leaves an output locked. The lock files themselves stay
(empty), so that every run locks the same file.

Staging files hold tonight's rows, and a quarantine's raw rows hold personal data: they are
created readable by their owner only (0600).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import filelock
import sqlalchemy as sa

from leadscore.data.tables import TableRef, sql_engine
from leadscore.errors import OutputError

STAGING = "__staging"
STAGING_DIR_ENV = "LEADSCORE_STAGING_DIR"
PRIVATE = 0o600


@dataclass(frozen=True)
class Place:
    """Where a writer keeps its staging file and its lock file (None: the database locks)."""

    staging: Path
    lock: Path | None


class Lock(Protocol):
    def release(self) -> None: ...


def place_of(ref: TableRef) -> Place:
    """The staging file and lock file of an output (see the module's docstring)."""
    if ref.kind in ("parquet", "csv"):
        path = Path(ref.location)
        return Place(path.with_name(f".{path.name}{STAGING}.parquet"), lock_path(path))
    database = database_file(ref)
    if database is not None:
        base = f".{database.name}.{safe_name(str(ref.table))}"
        return Place(
            database.with_name(f"{base}{STAGING}.parquet"), database.with_name(f"{base}.lock")
        )
    digest = hashlib.sha256(f"{ref.location}#{ref.table}".encode()).hexdigest()[:24]
    folder = staging_folder()
    server_locks = ref.kind == "sql" and sql_engine(ref.location).dialect.name == "postgresql"
    return Place(folder / f"{digest}.parquet", None if server_locks else folder / f"{digest}.lock")


def lock_path(path: Path) -> Path:
    """The lock file of a file or folder output: hidden, beside it."""
    return path.with_name(f".{path.name}.lock")


def safe_name(name: str) -> str:
    """A table name as one file name: path separators and other special characters are
    %-escaped, so ``../x`` stays in its folder as ``..%2Fx``."""
    return quote(name, safe="")


def database_file(ref: TableRef) -> Path | None:
    """The file of a DuckDB or SQLite database (None: a server, or SQLite in memory)."""
    if ref.kind == "duckdb":
        return Path(ref.location)
    url = sa.make_url(ref.location)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database.removeprefix("file:").split("?")[0])


def staging_folder() -> Path:
    """The folder for outputs that have no folder of their own, readable by its owner only."""
    given = os.environ.get(STAGING_DIR_ENV)
    default = Path(tempfile.gettempdir()) / f"leadscore-staging-{os.getuid()}"
    folder = Path(given) if given else default
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OutputError(
            f"{folder}: the staging folder must be a folder of this user that no one else can "
            f"read (mode 0700); set {STAGING_DIR_ENV} to one"
        )
    return folder


def create_file(path: Path, *, private: bool, like: Path | None = None) -> None:
    """Create ``path`` empty: 0600 when ``private``, else with the mode of ``like`` (a file it
    will replace, whose mode then stays as its owner set it) or as ``open`` would create it."""
    mode = PRIVATE if private else 0o666
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        if private:
            os.fchmod(fd, PRIVATE)  # an existing file keeps its mode through O_CREAT
        elif like is not None and like.is_file():
            os.fchmod(fd, stat.S_IMODE(like.stat().st_mode))
    finally:
        os.close(fd)


def acquire(ref: TableRef, place: Place) -> Lock:
    """Lock the output, or fail at once with :class:`OutputError` when another run holds it."""
    if place.lock is None:
        return _AdvisoryLock(ref)
    place.lock.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(place.lock, timeout=0, mode=PRIVATE)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise OutputError(_busy(ref, f"lock file {place.lock}")) from exc
    return lock


class _AdvisoryLock:
    """A PostgreSQL session-level advisory lock on one connection, held until released; the
    server releases it when the session ends, e.g. because the process was killed."""

    def __init__(self, ref: TableRef) -> None:
        digest = hashlib.sha256(f"leadscore:{ref.table}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.conn = sql_engine(ref.location).connect()
        try:
            query = sa.text("SELECT pg_try_advisory_lock(:key)")
            held = self.conn.execute(query, {"key": self.key}).scalar_one()
            self.conn.commit()  # a session lock outlives the transaction
        except BaseException:
            self.conn.close()
            raise
        if not held:
            self.conn.close()
            raise OutputError(_busy(ref, "a PostgreSQL advisory lock"))

    def release(self) -> None:
        """Unlock; an unlock that fails is not an error of its own: its session is gone (the
        server stopped, say), and the server released the lock with it. Raising here would
        hide the error that ended the run, which is the one to act on."""
        try:
            self.conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self.conn.commit()
        except sa.exc.SQLAlchemyError:
            self.conn.invalidate()
        finally:
            self.conn.close()


def _busy(ref: TableRef, what: str) -> str:
    return (
        f"{ref}: another leadscore run is writing this output ({what}); run again when it has "
        "finished (a run that was killed holds no lock)"
    )
