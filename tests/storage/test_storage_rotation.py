"""Key rotation: round trip, an interrupted rotation rerun, and no key retired while in use."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from storage_helpers import victim

from ctip.domain.problems import Problem, RejectedRow
from ctip.errors import KeyError_
from ctip.services.keys import rotate_keys
from ctip.settings import Settings
from ctip.storage.keys import load_ring
from ctip.storage.repository import CaseStore
from ctip.storage.tables import metadata, victims


def _fill(settings: Settings, n: int = 23) -> dict[str, str]:
    with CaseStore.open(settings) as store:
        batch = store.start_batch(source_file="r.csv", file_sha256=None, profile="canonical",
                                  agency="ngo-a")
        store.add_victims(batch, [victim(i) for i in range(n)])
        store.add_rejects(batch, [RejectedRow("r.csv", 5, {"given_name": "Zorbanella5"},
                                              (Problem("age", "bad"),))])
        opened = store.identities(store.victim_ids(), actor="t", reason="before rotation")
        return {vid: ident.email or "" for vid, ident in opened.items()}


def _emails(settings: Settings) -> dict[str, str]:
    with CaseStore.open(settings) as store:
        opened = store.identities(store.victim_ids(), actor="t", reason="after rotation")
        assert [r.raw for r in store.rejects()] == [{"given_name": "Zorbanella5"}]
        return {vid: ident.email or "" for vid, ident in opened.items()}


def _foundation(resealed: dict[str, int]) -> dict[str, int]:
    """This file's columns (case management's are covered by test_casework_rotation.py)."""
    return {label: n for label, n in resealed.items()
            if label in ("import_rejects.sealed", "victims.identity_sealed")}


def _key_ids(settings: Settings) -> set[str]:
    with CaseStore.open(settings) as store, store.engine.connect() as conn:
        return set(conn.execute(sa.select(victims.c.seal_key_id).distinct()).scalars())


def test_rotation_round_trip(store_settings: Settings) -> None:
    before = _fill(store_settings)
    old = load_ring(store_settings.resolved_key_file).active
    report = rotate_keys(store_settings, actor="admin", batch_size=5)
    ring = load_ring(store_settings.resolved_key_file)
    assert report.retired_key_ids == [old] and ring.active == report.new_key_id != old
    assert list(ring.keys) == [ring.active]
    assert _foundation(report.resealed) == {"import_rejects.sealed": 1,
                                            "victims.identity_sealed": 23}
    assert _emails(store_settings) == before
    assert _key_ids(store_settings) == {ring.active}
    with CaseStore.open(store_settings) as store, store.engine.connect() as conn:
        assert store.audit.verify(conn).ok
        actions = [e.action for e in store.audit.entries(conn)]
    assert actions.count("keys.reseal") == 6  # 5 batches of victims + 1 of rejects
    assert "keys.rotate.finish" in actions


def test_interrupted_rotation_resumes_and_loses_nothing(store_settings: Settings) -> None:
    before = _fill(store_settings)
    old = load_ring(store_settings.resolved_key_file).active
    seen: list[int] = []

    def crash_after_two_batches(label: str, rows: int) -> None:
        seen.append(rows)
        if len(seen) == 2:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C, or the machine died

    with pytest.raises(KeyboardInterrupt):
        rotate_keys(store_settings, batch_size=4, on_batch=crash_after_two_batches)
    ring = load_ring(store_settings.resolved_key_file)
    assert ring.rotating and old in ring.keys  # old key kept: half-rotated data still opens
    new = ring.active
    assert _key_ids(store_settings) == {old, new}
    assert _emails(store_settings) == before  # readable in the half-rotated state

    report = rotate_keys(store_settings, batch_size=4)
    assert report.resumed and report.new_key_id == new  # no third key
    assert sum(seen) == 5  # 1 reject, then 4 victims were re-sealed before the crash
    assert _foundation(report.resealed) == {"import_rejects.sealed": 0,
                                            "victims.identity_sealed": 23 - 4}
    ring = load_ring(store_settings.resolved_key_file)
    assert list(ring.keys) == [new]
    assert _key_ids(store_settings) == {new}
    assert _emails(store_settings) == before


def test_crash_right_after_new_key_written(store_settings: Settings) -> None:
    before = _fill(store_settings)

    def crash_at_once(label: str, rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate_keys(store_settings, batch_size=1000, on_batch=crash_at_once)
    first_new = load_ring(store_settings.resolved_key_file).active
    assert rotate_keys(store_settings).new_key_id == first_new
    assert _emails(store_settings) == before


def test_rotation_refuses_to_retire_a_key_still_used_by_an_unregistered_column(
        store_settings: Settings) -> None:
    _fill(store_settings, 2)
    extra = sa.Table("zz_unregistered_notes", sa.MetaData(),
                     sa.Column("note_id", sa.String(36), primary_key=True),
                     sa.Column("note_sealed", sa.LargeBinary))
    with CaseStore.open(store_settings) as store:
        extra.create(store.engine)
        with store.engine.begin() as conn:
            conn.execute(extra.insert().values(note_id="n1", note_sealed=store.sealer.seal(
                "secret note", context="notes/n1")))
    registered = extra.to_metadata(metadata)
    try:
        with pytest.raises(KeyError_, match="zz_unregistered_notes.note_sealed"):
            rotate_keys(store_settings)
        assert load_ring(store_settings.resolved_key_file).rotating  # old key kept
    finally:
        metadata.remove(registered)


def test_rotation_with_env_key_is_refused(store_settings: Settings) -> None:
    import base64
    import secrets

    env = store_settings.model_copy(
        update={"seal_key": base64.b64encode(secrets.token_bytes(32)).decode()})
    with pytest.raises(KeyError_, match="CTIP_SEAL_KEY"):
        rotate_keys(env)
