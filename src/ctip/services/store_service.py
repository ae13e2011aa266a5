"""What a module's service holds of its store: the engine, the sealing key ring, the audit log
and a clock; ``of(store)`` builds one from any store object that has the first three (the store
facade, a CaseStore or a Casework)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Self

import sqlalchemy as sa

from ctip.storage.audit import AuditLog
from ctip.storage.sealing import Sealer


def utc_now() -> datetime:
    return datetime.now(UTC)


class StoreService:
    def __init__(self, engine: sa.Engine, sealer: Sealer, audit: AuditLog | None = None, *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.engine, self.sealer = engine, sealer
        self.audit = audit or AuditLog()
        self.clock = clock

    @classmethod
    def of(cls, store: Any) -> Self:
        return cls(store.engine, store.sealer, store.audit)
