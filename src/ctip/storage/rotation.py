"""Re-sealing under a new key, in small committed batches, so a rotation can stop and resume.

Every sealed column in the store is registered here (``register_sealed``), with how to rebuild
its AAD context from the row's primary key. ``reseal_column`` walks one column: each batch is
opened with whatever key sealed it, sealed again under the active key and committed together
with its audit entry. Interrupt it at any point and every row is still readable (the key ring
keeps the old keys until the service confirms nothing is left under them); run it again and it
continues where it stopped, because a row already under the active key is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ctip.storage import keystate
from ctip.storage.audit import AuditLog
from ctip.storage.sealing import Sealer
from ctip.storage.tables import import_rejects, victims


@dataclass(frozen=True)
class SealedColumn:
    table: sa.Table
    pk: str
    column: str
    context: Callable[[str], str]  # primary key -> AAD context used when sealing
    key_id_column: str | None = None  # lets the database find rows left to re-seal

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column}"


SEALED: dict[str, SealedColumn] = {}


def register_sealed(column: SealedColumn) -> None:
    """Areas that seal their own columns register them at import, so rotation covers them."""
    SEALED[column.label] = column


register_sealed(SealedColumn(victims, "victim_id", "identity_sealed",
                             lambda pk: f"victims/{pk}/identity", "seal_key_id"))
register_sealed(SealedColumn(import_rejects, "reject_id", "sealed",
                             lambda pk: f"import_rejects/{pk}/content", "seal_key_id"))


def _pending(col: SealedColumn, active: str, after: str | None, limit: int) -> sa.Select[Any]:
    t = col.table
    query = sa.select(t.c[col.pk], t.c[col.column]).where(t.c[col.column].is_not(None))
    if col.key_id_column:
        query = query.where(t.c[col.key_id_column] != active)
    if after is not None:
        query = query.where(t.c[col.pk] > after)
    return query.order_by(t.c[col.pk]).limit(limit)


def reseal_column(engine: sa.Engine, sealer: Sealer, col: SealedColumn, *, actor: str,
                  batch_size: int = 2000,
                  on_batch: Callable[[str, int], None] | None = None,
                  conn: sa.Connection | None = None) -> int:
    """Re-seal every value of ``col`` not yet under the active key. Returns how many.

    Each batch is its own transaction, sealed under the database's active key read under the
    key lock (``storage.keystate``); with ``conn`` (rotation's retire step, which holds the
    exclusive lock) everything is done in that one transaction."""
    audit = AuditLog()
    t = col.table
    done = 0
    after: str | None = None
    while True:
        with _transaction(engine, conn) as tx:
            active = _active(tx, sealer)
            rows = tx.execute(_pending(col, active, after, batch_size)).all()
            if not rows:
                return done
            after = rows[-1][0]
            changes = []
            old_keys: set[str] = set()
            for pk, blob in rows:
                key_id = Sealer.key_id_of(bytes(blob))
                if key_id == active:
                    continue
                old_keys.add(key_id)
                values = {"_pk": pk, col.column: sealer.reseal(blob, context=col.context(pk))}
                if col.key_id_column:
                    values[col.key_id_column] = active
                changes.append(values)
            if changes:
                tx.execute(sa.update(t).where(t.c[col.pk] == sa.bindparam("_pk")), changes)
                audit.append(tx, actor=actor, action="keys.reseal", subject=col.label,
                             details={"rows": len(changes), "from_keys": sorted(old_keys),
                                      "to_key": active})
            done += len(changes)
        if on_batch is not None:
            on_batch(col.label, len(changes))


@contextmanager
def _transaction(engine: sa.Engine, conn: sa.Connection | None) -> Iterator[sa.Connection]:
    if conn is not None:
        yield conn
        return
    with engine.begin() as tx:
        yield tx


def _active(conn: sa.Connection, sealer: Sealer) -> str:
    guard = keystate.guard_of(sealer)
    return guard.sync(conn, sealer) if guard is not None else sealer.active_key_id


def check_opens(engine: sa.Engine, sealer: Sealer) -> None:
    """Open one stored value of every registered column (``SealError`` / ``KeyError_`` when the
    ring is not the one the database was sealed with)."""
    with engine.connect() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        for col in SEALED.values():
            if col.table.name not in existing:
                continue
            t = col.table
            row = conn.execute(sa.select(t.c[col.pk], t.c[col.column])
                               .where(t.c[col.column].is_not(None)).limit(1)).first()
            if row is not None:
                sealer.open(row[1], context=col.context(row[0]))


def remaining(conn: sa.Connection, col: SealedColumn, active: str) -> int:
    """How many values of ``col`` are still sealed under a key other than ``active``."""
    t = col.table
    if col.key_id_column:
        return int(conn.execute(
            sa.select(sa.func.count()).select_from(t)
            .where(t.c[col.key_id_column] != active, t.c[col.column].is_not(None))
        ).scalar_one())
    count = 0
    for (blob,) in conn.execute(sa.select(t.c[col.column]).where(t.c[col.column].is_not(None))):
        count += Sealer.key_id_of(bytes(blob)) != active
    return count


def unregistered_under(conn: sa.Connection, metadata: sa.MetaData,
                       keys: set[str]) -> dict[str, int]:
    """Binary columns nobody registered that still hold values sealed under ``keys``.

    The safety net before old keys are dropped: a sealed column an area forgot to register
    would otherwise become unreadable after rotation. Non-sealed binary values are ignored.
    """
    registered = set(SEALED)
    found: dict[str, int] = {}
    existing = set(sa.inspect(conn).get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        for column in table.columns:
            label = f"{table.name}.{column.name}"
            if label in registered or not isinstance(column.type, sa.LargeBinary):
                continue
            count = 0
            for (blob,) in conn.execute(sa.select(column).where(column.is_not(None))):
                try:
                    count += Sealer.key_id_of(bytes(blob)) in keys
                except Exception:  # noqa: BLE001,S112 - not a sealed value
                    continue
            if count:
                found[label] = count
    return found
