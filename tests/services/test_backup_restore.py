"""`ctip backup` / `ctip restore` (issue 20, item 8): consistent while in use, keys kept apart.

The red-team's plain `cp` of an open database lost 25 of 75 cases (they were still in the
write-ahead log). Here 75 cases are written and the store stays open and busy while the backup
runs; the restore holds all 75, every sealed value opens, the audit chain verifies.
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctip.cli import app
from ctip.domain.access import Principal, Role
from ctip.domain.records import Identity
from ctip.errors import ConfigurationError, InputFileError, KeyError_
from ctip.services.backup import backup, restore
from ctip.services.casework import CaseIntake, Casework
from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.storage.keys import load_ring
from ctip.storage.repository import CaseStore
from ctip.storage.rotation import SEALED


def _settings(home: Path) -> Settings:
    return Settings(home=home, database_url=None, seal_key=None, pseudonym_key=None,
                    key_file=None, pseudonym_key_file=None)


def _cases(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM cases").fetchone()[0])


def _opens_everything(settings: Settings) -> int:
    opened = 0
    with CaseStore.open(settings) as store, store.engine.connect() as conn:
        for col in SEALED.values():
            t = col.table
            for pk, blob in conn.execute(t.select().with_only_columns(t.c[col.pk], t.c[col.column])
                                         .where(t.c[col.column].is_not(None))):
                store.sealer.open(blob, context=col.context(pk))
                opened += 1
    return opened


@pytest.fixture
def busy(tmp_path: Path, ctip_home: Path):  # type: ignore[no-untyped-def]
    """A home with 75 cases written and the store still open (the WAL not checkpointed)."""
    settings = _settings(tmp_path / "home")
    init_home(settings)
    casework = Casework.open(settings)
    worker = Principal("u1", "cw", Role.CASEWORKER, "ngo-b")
    for i in range(75):
        casework.create_case(worker, CaseIntake(
            sex="female", age=20 + i % 40, notes=f"note {i}",
            identity=Identity(given_name=f"Backupname{i}", family_name="Walcase")))
    yield settings, casework, worker
    casework.engine.dispose()


def test_a_plain_copy_loses_cases_and_the_backup_keeps_them_all(busy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, casework, worker = busy
    db = settings.home / "ctip.db"
    naive = tmp_path / "cp.db"
    shutil.copyfile(db, naive)  # what the red team did
    assert _cases(naive) < 75  # the write-ahead log was left behind
    stop = threading.Event()

    def keep_writing() -> None:  # the office goes on working during the backup
        i = 0
        while not stop.is_set():
            i += 1
            casework.create_case(worker, CaseIntake(sex="male", notes=f"during {i}"))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        report = backup(settings, tmp_path / "backups", keys_to=tmp_path / "vault")
    finally:
        stop.set()
        writer.join()
    path = Path(report.path)
    assert report.counts["cases"] >= 75 and _cases(path) == report.counts["cases"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not Path(f"{path}-wal").exists()  # one self-contained file
    ring = load_ring(settings.resolved_key_file)
    for file in path.parent.iterdir():  # no key beside the database backup
        data = file.read_bytes()
        assert all(base64.b64encode(k) not in data and k not in data for k in ring.keys.values())
    assert report.keys_copied_to and Path(report.keys_copied_to).parent == tmp_path / "vault"

    # a new machine: the keys come back from the vault, the database from the backup
    fresh = _settings(tmp_path / "restored")
    keys = fresh.resolved_key_file.parent
    keys.mkdir(parents=True, mode=0o700)
    for key_file in Path(report.keys_copied_to).iterdir():
        shutil.copy2(key_file, keys / key_file.name)
    done = CliRunner().invoke(app, ["restore", str(path), "--json"],
                              env={"CTIP_HOME": str(fresh.home)})
    assert done.exit_code == 0, done.output
    assert _cases(fresh.home / "ctip.db") == report.counts["cases"]
    assert _opens_everything(fresh) >= 2 * 75  # every case identity and note opens


def test_restore_refuses_keys_that_are_not_the_backups_and_touches_nothing(
        busy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _casework, _worker = busy
    report = backup(settings, tmp_path / "backups")
    other = _settings(tmp_path / "other")
    init_home(other)  # its own, different keys and an empty database
    before = (other.home / "ctip.db").read_bytes()
    with pytest.raises(KeyError_, match="not the one this backup was made with"):
        restore(other, report.path, replace=True)
    assert (other.home / "ctip.db").read_bytes() == before


def test_restore_needs_replace_keeps_the_old_database_and_refuses_a_damaged_backup(
        busy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _casework, _worker = busy
    report = backup(settings, tmp_path / "backups")
    with pytest.raises(ConfigurationError, match="already exists"):
        restore(settings, report.path)
    done = restore(settings, report.path, replace=True)
    assert done.kept_aside and all(Path(p).exists() for p in done.kept_aside)
    assert done.counts["cases"] == report.counts["cases"]
    damaged = Path(report.path)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="does not match its manifest"):
        restore(settings, damaged, replace=True)


def test_keys_never_go_beside_the_database_backup(busy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _casework, _worker = busy
    with pytest.raises(ConfigurationError, match="must not go where"):
        backup(settings, tmp_path / "b", keys_to=tmp_path / "b" / "keys")


def test_postgresql_gets_the_pg_dump_and_pg_restore_commands(tmp_path: Path) -> None:
    pg = Settings(home=tmp_path, database_url="postgresql+psycopg://ctip:hunter2pw@db.internal/ctip")
    with pytest.raises(ConfigurationError, match="PostgreSQL") as refused:
        backup(pg, tmp_path / "b")
    assert "pg_dump --format=custom" in (refused.value.hint or "")
    assert "hunter2pw" not in str(refused.value)  # the password is never printed
    with pytest.raises(ConfigurationError) as refused:
        restore(pg, tmp_path / "x.db")
    assert "pg_restore" in (refused.value.hint or "")
