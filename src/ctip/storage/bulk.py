"""Fast bulk inserts: plain DBAPI ``executemany`` with values prepared once per batch.

Why not ``conn.execute(table.insert(), rows)``: SQLAlchemy's per-row parameter processing costs
more than the insert itself at import volumes (5,000 rows x 45 columns per call). Here the only
conversion is what SQLite needs (dates and times as SQLAlchemy's own text format, so Core reads
them back unchanged); on PostgreSQL rows go through COPY, psycopg adapting Python values.

Also: time-ordered ids (UUID version 7 layout, RFC 9562) so new rows append to the end of the
primary-key B-tree instead of landing at random pages.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ctip.storage.backend import backend_of

_lock = threading.Lock()
_last = [0, 0]  # last millisecond, counter within it


def new_ids(n: int) -> list[str]:
    """``n`` ids at once (one clock read, one random read): the import path makes thousands."""
    with _lock:
        ms = max(time.time_ns() // 1_000_000, _last[0])
        start = _last[1] + 1 if ms == _last[0] else 0
        if start + n > 0xFFF:  # counter space of this millisecond used up: move to the next
            ms, start = ms + 1, 0
        # more than 4096 ids: the counter carries into the millisecond (still unique, ordered)
        _last[0], _last[1] = ms + (start + n - 1) // 0x1000, (start + n - 1) % 0x1000
    rand = os.urandom(8 * n)
    out = []
    for i in range(n):
        step = start + i
        at, counter = ms + step // 0x1000, step % 0x1000
        low = int.from_bytes(rand[8 * i:8 * i + 8], "big") & ((1 << 62) - 1) | (1 << 63)
        h = f"{at:012x}7{counter:03x}{low:016x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def new_id() -> str:
    """A UUIDv7-layout id: 48-bit Unix ms, 12-bit counter, 62 random bits (monotonic here)."""
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last[0]:
            ms, counter = _last[0], _last[1] + 1
            if counter > 0xFFF:
                ms, counter = ms + 1, 0
        else:
            counter = 0
        _last[0], _last[1] = ms, counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return str(uuid.UUID(int=value))


def insert_many(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert dict rows (all with the same keys) in one executemany."""
    if not rows:
        return
    names = list(rows[0])
    insert_rows(conn, table, names, [tuple(row[n] for n in names) for row in rows])


def insert_rows(conn: sa.Connection, table: sa.Table, names: Sequence[str],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert value tuples (in the order of ``names``) in one executemany (COPY on PostgreSQL):
    the import path builds tuples directly, no dict per row."""
    backend_of(conn).insert_rows(conn, table, names, rows)
