"""Set up a ctip home: the folder, the keys and the migrated database. Safe to run again.

Nothing that exists is overwritten: an existing key is checked (permissions, format) and kept,
because replacing a key would make every sealed value unreadable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ctip.errors import ConfigurationError
from ctip.settings import Settings
from ctip.storage.audit import AuditLog, VerifyResult
from ctip.storage.engine import current_revisions, make_engine, migrate, sqlite_path
from ctip.storage.keys import (
    KeyRing,
    load_pseudonym_key,
    load_ring,
    new_pseudonym_key_text,
    save_ring,
    write_secret,
)
from ctip.storage.keystate import open_keys
from ctip.storage.sealing import load_keys


@dataclass
class HomeReport:
    home: Path
    database: str  # URL with any password hidden
    created: list[str] = field(default_factory=list)  # what this run created
    existing: list[str] = field(default_factory=list)  # what was already there (kept)

    def as_dict(self) -> dict[str, object]:
        return {"home": str(self.home), "database": self.database, "created": self.created,
                "existing": self.existing}


def _ensure_dir(path: Path) -> bool:
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return created


def _database_has_data(settings: Settings) -> bool:
    """Whether the configured database already holds data (then it has keys somewhere)."""
    from ctip.storage.keystate import database_has_data

    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return False
    engine = make_engine(url)
    try:
        return database_has_data(engine)
    finally:
        engine.dispose()


def _refuse_new_keys(settings: Settings, missing: list[str]) -> None:
    if missing and _database_has_data(settings):
        raise ConfigurationError(
            f"The database {settings.resolved_database_url} already holds data, but the "
            f"{' and the '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing: new "
            "keys would make that data unreadable (and every pseudonym different).",
            hint="restore the key files kept with this database's backup (or point "
            "CTIP_KEY_FILE / CTIP_PSEUDONYM_KEY_FILE at them); ctip never creates keys for a "
            "database that has data",
        )


def init_keys(settings: Settings) -> tuple[list[str], list[str]]:
    """Create the sealing key ring and the pseudonym key where absent. Returns (created, kept).

    Refused when the database already holds data: its keys exist somewhere, and new ones
    would seal nothing it holds (``ctip restore`` puts keys and database back together)."""
    created: list[str] = []
    kept: list[str] = []
    missing = [
        what
        for what, env, path in (
            ("sealing key ring", settings.seal_key, settings.resolved_key_file),
            ("pseudonym key", settings.pseudonym_key, settings.resolved_pseudonym_key_file),
        )
        if not env and not path.exists()
    ]
    _refuse_new_keys(settings, missing)
    if settings.seal_key:
        kept.append("sealing key (CTIP_SEAL_KEY)")
    else:
        ring_path = settings.resolved_key_file
        if ring_path.exists():
            load_ring(ring_path)  # refuses loose permissions or a damaged ring
            kept.append(f"sealing key {ring_path}")
        else:
            _ensure_dir(ring_path.parent)
            save_ring(ring_path, KeyRing.generate())
            created.append(f"sealing key {ring_path}")
    if settings.pseudonym_key:
        kept.append("pseudonym key (CTIP_PSEUDONYM_KEY)")
    else:
        key_path = settings.resolved_pseudonym_key_file
        if key_path.exists():
            load_pseudonym_key(key_path)
            kept.append(f"pseudonym key {key_path}")
        else:
            _ensure_dir(key_path.parent)
            write_secret(key_path, new_pseudonym_key_text())
            created.append(f"pseudonym key {key_path}")
    load_keys(settings)  # the pair must load together (e.g. not the same key twice)
    return created, kept


def init_home(settings: Settings) -> HomeReport:
    """Create CTIP_HOME (0700), the keys (0600) and the database migrated to the latest schema."""
    from sqlalchemy import make_url

    url = settings.resolved_database_url
    report = HomeReport(settings.home, make_url(url).render_as_string(hide_password=True))
    if _ensure_dir(settings.home):
        report.created.append(f"home {settings.home}")
    else:
        report.existing.append(f"home {settings.home}")
    os.chmod(settings.home, 0o700)
    created, kept = init_keys(settings)
    report.created += created
    report.existing += kept
    path = sqlite_path(url)
    fresh = path is not None and not path.exists()
    engine = make_engine(url)
    try:
        before = current_revisions(engine)
        migrate(engine)
        changed = current_revisions(engine) != before
        open_keys(settings, engine)  # records the keys' check values, or refuses wrong keys
    finally:
        engine.dispose()
    if fresh:
        report.created.append(f"database {report.database}")
    elif changed:
        report.created.append(f"schema (migrated) in database {report.database}")
    else:
        report.existing.append(f"database {report.database}")
    return report


def verify_audit(settings: Settings, *, expect_head: str | None = None) -> VerifyResult:
    """Check the audit chain of the configured store. Needs no key: the chain is plain hashes."""
    import sqlalchemy as sa

    engine = make_engine(settings.resolved_database_url)
    try:
        if not sa.inspect(engine).has_table("audit_log"):
            raise ConfigurationError(
                f"The database {settings.resolved_database_url} has no audit log yet.",
                hint="run `ctip init` first (or check CTIP_HOME / CTIP_DATABASE_URL)",
            )
        with engine.connect() as conn:
            return AuditLog().verify(conn, expect_head=expect_head)
    finally:
        engine.dispose()
