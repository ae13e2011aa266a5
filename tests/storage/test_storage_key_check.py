"""Keys are checked against the database they belong to (issue 20, item 5), on both backends.

A wrong pseudonym key used to give silent garbage: searches found nothing and a re-import
"updated" every record; `ctip init` made a new pseudonym key for a populated database. Now the
database keeps each key's check value and refuses another key with a clear message, and no key
is ever created for a database that has data.
"""

from __future__ import annotations

import base64
import json
import secrets

import pytest
import sqlalchemy as sa
from storage_helpers import make_settings, victim

from ctip.errors import ConfigurationError, KeyError_
from ctip.services.home import init_home, init_keys
from ctip.settings import Settings
from ctip.storage.engine import make_engine
from ctip.storage.keys import KeyRing, load_ring, new_pseudonym_key_text, save_ring, write_secret
from ctip.storage.keystate import key_register
from ctip.storage.repository import CaseStore


def _fill(settings: Settings) -> None:
    with CaseStore.open(settings) as store:
        batch = store.start_batch(source_file="k.csv", file_sha256=None, profile="canonical",
                                  agency="ngo-a")
        store.add_victims(batch, [victim(i) for i in range(3)])


def test_a_wrong_pseudonym_key_is_refused(store_settings: Settings) -> None:
    _fill(store_settings)
    write_secret(store_settings.resolved_pseudonym_key_file, new_pseudonym_key_text())
    with pytest.raises(KeyError_, match="pseudonym key does not match") as refused:
        CaseStore.open(store_settings)
    assert "backup" in (refused.value.hint or "")


def test_a_sealing_key_with_a_known_id_but_other_bytes_is_refused(
        store_settings: Settings) -> None:
    _fill(store_settings)
    path = store_settings.resolved_key_file
    ring = load_ring(path)
    save_ring(path, KeyRing(active=ring.active, keys={ring.active: secrets.token_bytes(32)}))
    with pytest.raises(KeyError_, match="sealing key .* does not match"):
        CaseStore.open(store_settings)


def test_a_ring_of_other_keys_is_refused(store_settings: Settings) -> None:
    _fill(store_settings)
    save_ring(store_settings.resolved_key_file, KeyRing.generate())
    with pytest.raises(KeyError_, match="holds none of the database's keys"):
        CaseStore.open(store_settings)


def test_keys_from_the_environment_are_checked_too(store_settings: Settings) -> None:
    _fill(store_settings)
    env = store_settings.model_copy(update={
        "seal_key": base64.b64encode(load_ring(store_settings.resolved_key_file).to_json()
                                     .encode()).decode(),
        "pseudonym_key": base64.b64encode(secrets.token_bytes(32)).decode()})
    with pytest.raises(KeyError_, match="pseudonym key does not match"):
        CaseStore.open(env)


def test_init_never_creates_keys_for_a_database_with_data(store_settings: Settings) -> None:
    _fill(store_settings)
    store_settings.resolved_pseudonym_key_file.unlink()
    with pytest.raises(ConfigurationError, match="already holds data") as refused:
        init_home(store_settings)
    assert not store_settings.resolved_pseudonym_key_file.exists()
    assert "restore" in (refused.value.hint or "")
    with pytest.raises(ConfigurationError, match="already holds data"):
        init_keys(store_settings)
    store_settings.resolved_key_file.unlink()
    with pytest.raises(ConfigurationError, match="sealing key ring and the pseudonym key"):
        init_home(store_settings)


def test_init_creates_keys_for_an_empty_database_and_records_them(tmp_path, database_url,
                                                                  ctip_home) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path / "fresh", database_url)
    report = init_home(settings)
    assert any("pseudonym key" in item for item in report.created)
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        kinds = sorted(r.kind for r in conn.execute(sa.select(key_register)))
        values = " ".join(r.check_value for r in conn.execute(sa.select(key_register)))
    engine.dispose()
    assert kinds == ["pseudonym", "seal"]
    ring = load_ring(settings.resolved_key_file)
    for key in (*ring.keys.values(), settings.resolved_pseudonym_key_file.read_bytes()):
        assert base64.b64encode(key).decode()[:12] not in values  # no key in the database
    init_home(settings)  # again: nothing replaced, keys accepted


def test_a_database_from_before_the_register_is_checked_by_opening_its_data(
        store_settings: Settings) -> None:
    _fill(store_settings)
    engine = make_engine(store_settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(key_register.delete())  # as made before migration 0003
    save_ring(store_settings.resolved_key_file, KeyRing.generate())
    with pytest.raises(KeyError_):  # the new ring does not open what is stored
        CaseStore.open(store_settings)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(key_register)).scalar() == 0
    engine.dispose()


def test_check_values_reveal_nothing_of_the_key(store_settings: Settings) -> None:
    engine = make_engine(store_settings.resolved_database_url)
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(key_register)))
    engine.dispose()
    ring_text = json.loads(store_settings.resolved_key_file.read_text())
    for row in rows:
        assert len(row.check_value) == 32
        assert all(row.check_value not in key for key in ring_text["keys"].values())
