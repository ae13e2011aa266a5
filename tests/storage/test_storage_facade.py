"""The store facade: one engine per store, migrations only by `ctip init` / `ctip migrate`, and a
clear error (never a migration) when a store is opened on a schema that is behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from storage_helpers import make_settings, victim
from typer.testing import CliRunner

from ctip import storage
from ctip.cli import app
from ctip.errors import ConfigurationError
from ctip.services.accounts import Accounts
from ctip.services.casework import Casework
from ctip.services.home import init_home, init_keys, migrate_home
from ctip.services.review import ReviewQueues
from ctip.storage.backend import PostgreSQL, SQLite, backend_of
from ctip.storage.engine import _config, current_revisions, engine_for, make_engine, migrate


def _only_foundation(settings) -> None:  # type: ignore[no-untyped-def]
    """A database migrated to 0001_foundation only, as an old ctip left it."""
    engine = engine_for(settings)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001_foundation")
    engine.dispose()


def test_repositories_of_one_store_share_its_engine_keys_and_audit(
        tmp_path: Path, database_url: str, ctip_home: Path) -> None:
    settings = make_settings(tmp_path / "home", database_url)
    init_home(settings)
    with storage.open(settings) as store:
        casework = store.repository(Casework.of)
        assert store.repository(Casework.of) is casework  # built once per store
        accounts = store.repository(Accounts.of)
        queues = store.repository(ReviewQueues.of)
        records = store.records(actor="tester")
        for part in (casework, accounts, queues, records):
            assert part.engine is store.engine
            assert part.audit is store.audit
            assert part.sealer is store.sealer
        assert accounts.session_minutes == settings.session_timeout_minutes
        assert store.backend is backend_of(store.engine)
        expected = SQLite if database_url.startswith("sqlite") else PostgreSQL
        assert isinstance(store.backend, expected)
        records.add_victims(records.start_batch(source_file="f.csv", file_sha256=None,
                                                profile="canonical", agency="ngo-a"),
                            [victim(1)])
        with store.transaction() as conn:  # one unit of work over the same engine
            assert conn.execute(sa.text("SELECT count(*) FROM victims")).scalar_one() == 1


def test_opening_a_store_never_migrates_and_names_the_command(
        tmp_path: Path, database_url: str, ctip_home: Path) -> None:
    settings = make_settings(tmp_path / "home", database_url)
    settings.home.mkdir(parents=True)
    init_keys(settings)
    if database_url.startswith("sqlite"):  # no database file: nothing is created by opening
        with pytest.raises(ConfigurationError, match="ctip init"):
            storage.open(settings)
        assert not (tmp_path / "ctip.db").exists()
        make_engine(database_url).dispose()  # an empty file: no schema at all
    with pytest.raises(ConfigurationError, match="ctip init"):
        storage.open(settings)
    _only_foundation(settings)
    with pytest.raises(ConfigurationError, match="ctip migrate") as behind:
        storage.open(settings)
    assert "behind" in behind.value.message
    with pytest.raises(ConfigurationError, match="ctip migrate"):
        Casework.open(settings)
    engine = engine_for(settings)
    assert current_revisions(engine) == {"0001_foundation"}  # still: opening did not migrate
    engine.dispose()

    report = migrate_home(settings)
    assert report.before == ["0001_foundation"] and report.changed
    assert migrate_home(settings).changed is False  # safe to run again
    storage.open(settings).close()


def test_a_database_from_a_newer_ctip_is_refused(tmp_path: Path, ctip_home: Path) -> None:
    settings = make_settings(tmp_path / "home")
    init_home(settings)
    engine = engine_for(settings)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
    engine.dispose()
    with pytest.raises(ConfigurationError, match="newer ctip"):
        storage.open(settings)


def test_ctip_migrate_command(tmp_path: Path, ctip_home: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["migrate"])  # no home yet: a clear error (main() renders it)
    assert isinstance(missing.exception, ConfigurationError)
    assert "ctip init" in str(missing.exception)
    settings = make_settings(ctip_home)
    ctip_home.mkdir()
    init_keys(settings)
    make_engine(settings.resolved_database_url).dispose()
    _only_foundation(settings)
    refused = runner.invoke(app, ["stats", "victims"])
    assert isinstance(refused.exception, ConfigurationError)
    assert refused.exception.exit_code == 2 and "ctip migrate" in str(refused.exception)
    done = runner.invoke(app, ["migrate", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["before"] == ["0001_foundation"]
    again = runner.invoke(app, ["migrate"])
    assert again.exit_code == 0 and "up to date" in again.output
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)  # already at every head: nothing to do
    engine.dispose()
