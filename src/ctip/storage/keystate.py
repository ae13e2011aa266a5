"""The keys a database is sealed with, and the lock that makes key rotation safe for writers.

Two guarantees, both kept in the database itself (``key_register``, migration 0003):

**The right keys.** Each key's *check value* (an HMAC of a fixed text under the key: it reveals
nothing about the key) is recorded the first time a store is opened with it. A store opened
later with another pseudonym key, or with a sealing key whose id is known but whose bytes differ,
is refused with a clear message instead of producing silent garbage (searches that find nothing,
a re-import that "updates" every record).

**No value sealed under a retired key.** The active sealing key is the one the *database* names,
read inside every transaction that seals, under a lock: PostgreSQL's shared advisory lock
``KEY_LOCK`` (held until the transaction ends), SQLite's write lock (one writer at a time). Key
rotation switches the active key and later retires the old one under the exclusive form of the
same lock, re-checking under it that no row still uses the old key. So a writer either sealed and
committed before the retire step looked (and the retire step sees and re-seals its rows), or it
reads the new active key (and, if its process loaded the key ring before the rotation, reloads
the ring from its file). A writer never commits a value under a key the retire step dropped.

``KeyGuard`` does the per-transaction part for every ``Sealer`` bound to a store's engine: the
first ``seal`` in a transaction takes the lock and reads the active key (SQLAlchemy's transaction
events tell it which transaction is current in the thread). Sealing outside a transaction with a
bound sealer is refused: such a value could outlive its key.
"""

from __future__ import annotations

import hmac
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ctip.errors import KeyError_
from ctip.settings import Settings
from ctip.storage.engine import is_postgres, take_sqlite_write_lock
from ctip.storage.keys import KeyRing
from ctip.storage.tables import audit_log, metadata

if TYPE_CHECKING:
    from ctip.storage.sealing import Pseudonymiser, Sealer

KEY_LOCK = 7_411_202  # PostgreSQL advisory lock: writers share it, rotation takes it alone
PSEUDONYM = "pseudonym"  # the key_id of the pseudonym key's row
ACTIVE, RETIRING, RETIRED = "active", "retiring", "retired"

key_register = sa.Table(
    "key_register",
    metadata,
    sa.Column("key_id", sa.String(80), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "seal" or "pseudonym"
    sa.Column("check_value", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # active | retiring | retired
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
)


def check_value(key: bytes, kind: str) -> str:
    """HMAC-SHA256 of a fixed text under ``key`` (128 bits kept): tells keys apart, shows none."""
    return hmac.digest(key, b"ctip-key-check-v1\x00" + kind.encode(), "sha256").hex()[:32]


def lock_shared(conn: sa.Connection) -> None:
    """Writers: held until the transaction ends; rotation's switch and retire steps wait for it."""
    if is_postgres(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": KEY_LOCK})
    else:
        take_sqlite_write_lock(conn)


def lock_exclusive(conn: sa.Connection) -> None:
    """Rotation: no sealing transaction runs while it is held."""
    if is_postgres(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": KEY_LOCK})
    else:
        take_sqlite_write_lock(conn)


def seal_keys(conn: sa.Connection) -> dict[str, tuple[str, str]]:
    """key id -> (state, check value) of every sealing key the database knows."""
    rows = conn.execute(
        sa.select(key_register.c.key_id, key_register.c.state, key_register.c.check_value)
        .where(key_register.c.kind == "seal")
    )
    return {r.key_id: (r.state, r.check_value) for r in rows}


def active_seal_key(conn: sa.Connection) -> str | None:
    return conn.execute(
        sa.select(key_register.c.key_id)
        .where(key_register.c.kind == "seal", key_register.c.state == ACTIVE)
    ).scalar_one_or_none()


def has_data(conn: sa.Connection) -> bool:
    """Whether anything was ever written (every write is audited; keys are registered first)."""
    for table in (audit_log, key_register):
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            return True
    return False


def database_has_data(engine: sa.Engine) -> bool:
    """``has_data`` for a database that may not be migrated yet (or at all)."""
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        for table in (audit_log, key_register):
            if table.name in tables and conn.execute(
                    sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                return True
    return False


def register_seal_key(conn: sa.Connection, key_id: str, key: bytes, state: str) -> None:
    conn.execute(key_register.insert().values(
        key_id=key_id, kind="seal", check_value=check_value(key, "seal"), state=state,
        created_at=datetime.now(UTC)))


def set_state(conn: sa.Connection, key_id: str, state: str) -> None:
    conn.execute(key_register.update().where(key_register.c.key_id == key_id).values(
        state=state, retired_at=datetime.now(UTC) if state == RETIRED else None))


def _mismatch(what: str, where: str) -> KeyError_:
    return KeyError_(
        f"The {what} does not match the one this database was sealed with ({where}).",
        hint="use the key files (or CTIP_SEAL_KEY / CTIP_PSEUDONYM_KEY) that belong to this "
        "database; restore them from the backup kept with it. Nothing was read or written",
    )


def bind(engine: sa.Engine, ring: KeyRing, pseudonym_key: bytes, *,
         verify: Callable[[], None] | None = None) -> None:
    """Check the keys against the database's register, recording them the first time.

    A database that already holds data but no register (made before it existed) gets its keys
    recorded only after ``verify`` (which opens sealed values with them) passes."""
    pseudonym_check = check_value(pseudonym_key, PSEUDONYM)
    with engine.connect() as conn:
        known = seal_keys(conn)
        pseudonym = conn.execute(sa.select(key_register.c.check_value)
                                 .where(key_register.c.key_id == PSEUDONYM)).scalar()
    for key_id, key in ring.keys.items():
        if key_id in known and known[key_id][1] != check_value(key, "seal"):
            raise _mismatch(f"sealing key {key_id!r}", "its check value differs")
    if pseudonym is not None and pseudonym != pseudonym_check:
        raise _mismatch("pseudonym key", "its check value differs")
    live = {k for k, (state, _) in known.items() if state != RETIRED}
    if known and not live & ring.keys.keys():
        raise _mismatch("sealing key ring",
                        f"it holds none of the database's keys {', '.join(sorted(live))}")
    if known and pseudonym is not None:
        return
    if not known and verify is not None:
        with engine.connect() as conn:
            populated = has_data(conn)
        if populated:
            verify()
    with engine.begin() as conn:
        lock_exclusive(conn)
        if not seal_keys(conn):
            for key_id, key in ring.keys.items():
                register_seal_key(conn, key_id, key, ACTIVE if key_id == ring.active else RETIRING)
        if conn.execute(sa.select(key_register.c.check_value)
                        .where(key_register.c.key_id == PSEUDONYM)).scalar() is None:
            conn.execute(key_register.insert().values(
                key_id=PSEUDONYM, kind=PSEUDONYM, check_value=pseudonym_check, state=ACTIVE,
                created_at=datetime.now(UTC)))


_GUARDS: weakref.WeakKeyDictionary[sa.Engine, KeyGuard] = weakref.WeakKeyDictionary()


def open_keys(settings: Settings, engine: sa.Engine) -> tuple[Sealer, Pseudonymiser]:
    """The store's sealer and pseudonymiser: keys loaded, checked against the database
    (``bind``), the sealer bound to the engine's ``KeyGuard`` and able to reload its ring."""
    from ctip.storage.rotation import check_opens
    from ctip.storage.sealing import Pseudonymiser, Sealer, load_keys, ring_source

    ring, pseudonym_key = load_keys(settings)
    bind(engine, ring, pseudonym_key, verify=lambda: check_opens(engine, Sealer(ring)))
    sealer = Sealer(ring, reload=ring_source(settings))
    guard = _GUARDS.get(engine)
    if guard is None:
        guard = _GUARDS[engine] = KeyGuard(engine)
    sealer.bind(guard)
    return sealer, Pseudonymiser(pseudonym_key)


def guard_of(sealer: Sealer) -> KeyGuard | None:
    return sealer._guard  # noqa: SLF001 - the one reader of the sealer's binding


class KeyGuard:
    """Per thread, the transaction in progress on one engine, and whether it took the key lock.

    The engine's ``begin`` / ``commit`` / ``rollback`` events keep a stack of the thread's open
    transactions (a thread may hold two at once); the first seal in the innermost one takes the
    shared key lock and reads the active key (``sync``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        sa.event.listen(engine, "begin", self._begin)
        sa.event.listen(engine, "commit", self._end)
        sa.event.listen(engine, "rollback", self._end)

    def _stack(self) -> list[list[object]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _begin(self, conn: sa.Connection) -> None:
        self._stack().append([conn, False])

    def _end(self, conn: sa.Connection) -> None:
        stack = self._stack()
        stack[:] = [entry for entry in stack if entry[0] is not conn]

    def sync(self, conn: sa.Connection, sealer: object) -> str:
        """Take the shared key lock in ``conn``'s transaction and make the database's active key
        the sealer's (reloading the ring if it lacks it). Returns the active key id."""
        lock_shared(conn)
        active = active_seal_key(conn)
        if active is None:
            raise KeyError_("This database has no active sealing key registered.",
                            hint="open it once with `ctip init` (it registers the keys)")
        sealer.use_active(active)  # type: ignore[attr-defined]
        for entry in self._stack():
            if entry[0] is conn:
                entry[1] = True
        return active

    def before_seal(self, sealer: object) -> None:
        stack = self._stack()
        while stack and (stack[-1][0].closed or not stack[-1][0].in_transaction()):  # type: ignore[attr-defined]
            stack.pop()
        if not stack:
            raise KeyError_(
                "A value was sealed outside a database transaction.",
                hint="seal inside `with engine.begin() as conn:` (the transaction that writes "
                "it), so the key it is sealed under is checked against key rotation",
            )
        conn, synced = stack[-1]
        if not synced:
            self.sync(conn, sealer)  # type: ignore[arg-type]
