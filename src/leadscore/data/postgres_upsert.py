"""The statements of a PostgreSQL upsert, chosen from the target's catalog entry.

Three paths keep the earlier rows whose key is not staged tonight, all inside the writer's one
transaction (see :mod:`leadscore.data.database_writers`):

- a plain table without a unique index or exclusion constraint takes the night by ``COPY``
  straight into it; then the earlier rows of tonight's keys are deleted: the rows whose
  ``xmin`` (the transaction that inserted them) is not this one, joined by hash on the key with
  those that are. The rows are written once, where a staging table wrote them twice;
- a table with a unique index on the key alone is updated in place from a staging table, so a
  foreign key to its rows holds: ``MERGE`` (PostgreSQL 15 and later), which joins by hash where
  ``INSERT ... ON CONFLICT DO UPDATE`` probes the index row by row (the latter on older
  servers). Both refuse a key staged twice;
- anything else (another unique index, which tonight's rows could break before the earlier ones
  are deleted; a view, which has no ``xmin`` and takes no COPY): the staged keys deleted, the
  staged rows inserted.
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa

Path = Literal["copy", "in place", "delete"]
MERGE_SINCE = (15,)  # the first PostgreSQL release with MERGE
XACT_ID_SINCE = (13,)  # the first with pg_current_xact_id(), which the copy path's DELETE reads


def upsert_path(conn: sa.Connection, target: str, key: str) -> Path:
    """How to upsert into ``target`` (quoted) by ``key``: ``"in place"`` with a unique index on
    ``key`` alone, immediate, without a predicate or expression (what ``ON CONFLICT (key)`` and
    a conflict-free ``MERGE`` need); ``"copy"`` into a plain table without any unique index or
    exclusion constraint, on PostgreSQL 13 and later; ``"delete"`` otherwise."""
    query = sa.text(
        "SELECT c.relkind IN ('r', 'p'), bool_or(i.indisunique AND i.indimmediate"
        " AND i.indnatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = :key)"
        " FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid"
        " AND (i.indisunique OR i.indisexclusion)"
        " LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        " WHERE c.oid = to_regclass(:target) GROUP BY c.relkind"
    )
    table, on_key = conn.execute(query, {"target": target, "key": key}).one()
    if on_key:
        return "in place"
    version = conn.dialect.server_version_info or ()
    return "copy" if table and on_key is None and version >= XACT_ID_SINCE else "delete"


def update_in_place(target: str, staging: str, key: str, columns: list[str], *, merge: bool) -> str:
    """The statement updating ``target``'s rows of the staged keys and inserting the new ones
    (identifiers quoted)."""
    names, others = ", ".join(columns), [c for c in columns if c != key]
    if not merge:
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in others)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        return (
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {staging}"
            f" ON CONFLICT ({key}) {action}"
        )
    updates = ", ".join(f"{c} = tonight.{c}" for c in others)
    matched = f" WHEN MATCHED THEN UPDATE SET {updates}" if updates else ""
    values = ", ".join(f"tonight.{c}" for c in columns)
    return (
        f"MERGE INTO {target} AS earlier USING {staging} AS tonight"
        f" ON earlier.{key} = tonight.{key}{matched}"
        f" WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})"
    )


def delete_earlier(target: str, key: str) -> str:
    """The statement deleting ``target``'s rows of tonight's keys that this transaction did not
    insert (after tonight's rows were COPY-ed into it)."""
    current = "pg_current_xact_id()::xid"
    return (
        f"DELETE FROM {target} AS earlier USING {target} AS tonight"
        f" WHERE tonight.xmin = {current} AND earlier.xmin <> {current}"
        f" AND earlier.{key} = tonight.{key}"
    )
