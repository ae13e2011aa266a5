"""Storage: SQLAlchemy Core tables, Alembic migrations, sealing, the audit chain, the repository.

Only this package writes SQL against the case store. Identity is sealed (``sealing``) before a
row is built; every change and every read of identity goes through ``audit``.

The store facade: ``ctip.storage.open(settings)`` gives one ``Store`` per process (``store.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctip.settings import Settings
    from ctip.storage.store import Store


def open(settings: Settings) -> Store:  # noqa: A001 - ctip.storage.open, like io.open
    """The store of ``settings``: keys, one engine, the schema checked (see ``store.py``).
    Imported lazily, so that importing a storage module (sealing in an import worker) does not
    load the database machinery."""
    from ctip.storage.store import open_store

    return open_store(settings)
