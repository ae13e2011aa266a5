"""The store facade: one per process, opened once by an adapter or a service entry point.

``ctip.storage.open(settings)`` loads the keys (a missing key says "run `ctip init`"), makes
the one engine, checks the schema (behind: "run `ctip migrate`"; migrations run only from
``ctip init`` and ``ctip migrate``) and returns a ``Store``. Everything that touches the
database shares its engine, key ring, pseudonymiser and audit log:

- ``store.records(actor=...)``: victim records, import batches and rejects (``CaseStore``);
- ``store.repository(Factory)``: any module's repository or service, built once per store as
  ``Factory(store)`` and kept (``Casework``, ``Accounts``, ``ReviewQueues``, a new module's
  own); a new module adds nothing here;
- ``store.transaction()``: one unit of work (a connection in a transaction; commit on success,
  roll back on error), for use cases that span repositories;
- ``store.backend``: what differs between SQLite and PostgreSQL (``storage/backend.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from ctip.settings import Settings
from ctip.storage.audit import AuditLog, keyed_audit_log
from ctip.storage.backend import Backend, backend_of, sqlite_path
from ctip.storage.engine import SchemaError, engine_for, require_current_schema
from ctip.storage.keystate import open_keys
from ctip.storage.sealing import Pseudonymiser, Sealer, load_keys

if TYPE_CHECKING:
    from ctip.storage.repository import CaseStore

R = TypeVar("R")


class Store:
    """The engine, keys and audit log of one database, and the repositories over them."""

    def __init__(self, engine: sa.Engine, sealer: Sealer, pseudonymiser: Pseudonymiser, *,
                 settings: Settings, audit: AuditLog | None = None) -> None:
        self.engine = engine
        self.sealer = sealer
        self.pseudonymiser = pseudonymiser
        self.settings = settings
        # keyed entry tags: the key comes from the pseudonym key, never from the database
        self.audit = audit or keyed_audit_log(pseudonymiser)
        self.backend: Backend = backend_of(engine)
        self._repositories: dict[Callable[..., Any], Any] = {}

    def records(self, *, actor: str = "system") -> CaseStore:
        """Victim records, import batches and rejects, written and audited as ``actor``."""
        from ctip.storage.repository import CaseStore

        return CaseStore(self.engine, self.sealer, self.pseudonymiser, actor=actor,
                         audit=self.audit)

    def repository(self, factory: Callable[[Store], R]) -> R:
        """The one ``factory(self)`` of this store (built on first use)."""
        found = self._repositories.get(factory)
        if found is None:
            found = self._repositories[factory] = factory(self)
        return found

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One unit of work: commit when the block ends, roll back if it raises."""
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_store(settings: Settings) -> Store:
    """Keys, then the engine, then a check that the schema is current (never a migration)."""
    load_keys(settings)  # a missing key says "run `ctip init`" before anything else
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise SchemaError(f"There is no database at {path} yet.",
                          hint="run `ctip init` (or check CTIP_HOME / CTIP_DATABASE_URL)")
    engine = engine_for(settings)
    try:
        require_current_schema(engine)
        # the keys checked against the database's key register, the sealer bound to the key
        # guard that makes rotation safe for writers (storage/keystate.py)
        sealer, pseudonymiser = open_keys(settings, engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, sealer, pseudonymiser, settings=settings)
