"""Sealing: no identity on disk in plaintext (SQLite file + WAL/journal, PostgreSQL dump),
AES-GCM bound to row and field, key files guarded, pseudonym normalisation."""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from storage_helpers import make_settings, victim

from ctip.domain.problems import Problem, RejectedRow
from ctip.domain.records import Identity
from ctip.errors import KeyError_, SealError
from ctip.services.home import init_home
from ctip.storage.keys import KeyRing, load_ring
from ctip.storage.repository import CaseStore
from ctip.storage.sealing import Pseudonymiser, Sealer, normalise_name


def _secrets(n: int) -> list[str]:
    """Every identity string the test records carry, each unusual enough to search for."""
    out = ["Quistwhorp", "Via Segreta", "1991-07-14"]
    for i in range(n):
        out += [f"Zorbanella{i}", f"zorbanella{i}@quistwhorp.example", f"PX{9988770 + i}",
                f"+39 555 01{i:04d}", f"Qalias{i}"]
    return out


def _fill(store: CaseStore, n: int = 40) -> None:
    batch = store.start_batch(source_file="people.csv", file_sha256=None, profile="canonical",
                              agency="ngo-a")
    store.add_victims(batch, [victim(i) for i in range(n)])
    # a changed record (update path) and rejected rows quoting identity in raw content and reasons
    store.add_victims(batch, [victim(0, age_at_identification=33)])
    store.add_rejects(batch, [RejectedRow(
        "people.csv", 99, {"given_name": "Zorbanella0", "email": "zorbanella0@quistwhorp.example",
                           "date_of_birth": "PX9988770"},
        (Problem("date_of_birth", "not a date", "PX9988770", "ISO 8601"),))])
    store.finish_batch(batch, read=n + 1, accepted=n, rejected=1)
    store.identities(store.victim_ids()[:3], actor="auditor", reason="sealing test")


def _assert_absent(blob: bytes, where: str, n: int) -> None:
    lowered = blob.lower()
    for secret in _secrets(n):
        for form in {secret.encode(), secret.lower().encode(), secret.encode().hex().encode(),
                     secret.encode("utf-16-le")}:
            assert form.lower() not in lowered, f"{secret!r} found in plaintext in {where}"


def test_sqlite_file_and_wal_hold_no_identity(tmp_path: Path, ctip_home: Path) -> None:
    settings = make_settings(tmp_path / "home")
    init_home(settings)
    db = settings.home / "ctip.db"
    store = CaseStore.open(settings)
    _fill(store)
    # the store still open: the WAL holds the latest pages
    files = [p for p in db.parent.iterdir() if p.name.startswith("ctip.db")]
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        _assert_absent(path.read_bytes(), path.name, 40)
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} readable by others"
    store.close()
    for path in (p for p in db.parent.iterdir() if p.name.startswith("ctip.db")):
        _assert_absent(path.read_bytes(), path.name, 40)
    # and the data really is there: the check above would pass on an empty file
    with CaseStore.open(settings) as again:
        assert again.victim_count() == 40
        opened = again.identities(again.victim_ids(), actor="t", reason="check")
        assert {i.email for i in opened.values()} == {
            f"zorbanella{i}@quistwhorp.example" for i in range(40)}


def test_rollback_journal_holds_no_identity(tmp_path: Path, ctip_home: Path) -> None:
    """Same check in rollback-journal mode (what SQLite uses when WAL is unavailable)."""
    settings = make_settings(tmp_path / "home")
    init_home(settings)
    with CaseStore.open(settings) as store:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
        store.engine.dispose()
        sa.event.listen(store.engine, "connect",
                        lambda c, _r: c.execute("PRAGMA journal_mode=PERSIST"))
        _fill(store)
        files = [p for p in settings.home.iterdir() if p.name.startswith("ctip.db")]
        assert any(p.name.endswith("-journal") for p in files)
        for path in files:
            _assert_absent(path.read_bytes(), path.name, 40)


def test_postgres_dump_holds_no_identity(tmp_path: Path, pg_url: str, ctip_home: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed for this test (apt-get install postgresql-client)")
    settings = make_settings(tmp_path / "home", pg_url)
    init_home(settings)
    with CaseStore.open(settings) as store:
        _fill(store)
        assert store.victim_count() == 40
    url = sa.make_url(pg_url).set(drivername="postgresql")
    dump = subprocess.run(["pg_dump", "--no-owner", url.render_as_string(hide_password=False)],
                          check=True, capture_output=True).stdout
    assert b"COPY public.victims" in dump and len(dump) > 20_000
    _assert_absent(dump, "pg_dump", 40)


def test_seal_binds_row_and_field() -> None:
    sealer = Sealer(KeyRing.generate())
    blob = sealer.seal("Zorbanella", context="victims/1/identity")
    assert sealer.open(blob, context="victims/1/identity") == "Zorbanella"
    assert Sealer.key_id_of(blob) == sealer.active_key_id
    with pytest.raises(SealError):
        sealer.open(blob, context="victims/2/identity")  # copied onto another row
    with pytest.raises(SealError):
        sealer.open(blob, context="victims/1/notes")  # or another field
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(SealError):
        sealer.open(bytes(tampered), context="victims/1/identity")
    with pytest.raises(KeyError_, match="not in the key ring"):
        Sealer(KeyRing.generate()).open(blob, context="victims/1/identity")
    assert sealer.seal("x", context="c") != sealer.seal("x", context="c")  # fresh nonce


def test_seal_many_is_seal_in_one_pass() -> None:
    """The import path seals a batch at once: each value opens under its own context only,
    in the same format as ``seal``, each with its own nonce."""
    sealer = Sealer(KeyRing.generate())
    texts = [f"Zorbanella{i}" for i in range(50)] + ["same", "same"]
    contexts = [f"victims/{i}/identity" for i in range(len(texts))]
    blobs = sealer.seal_many(texts, contexts)
    assert [sealer.open(b, context=c) for b, c in zip(blobs, contexts, strict=True)] == texts
    assert all(Sealer.key_id_of(b) == sealer.active_key_id for b in blobs)
    nonces = {b[2 + b[1]:2 + b[1] + 12] for b in blobs}
    assert blobs[-1] != blobs[-2] and len(nonces) == len(blobs)
    with pytest.raises(SealError):
        sealer.open(blobs[0], context=contexts[1])
    assert sealer.seal_many([], []) == []


def test_key_file_with_loose_permissions_is_refused(tmp_path: Path, ctip_home: Path) -> None:
    settings = make_settings(tmp_path / "home")
    init_home(settings)
    key = settings.resolved_key_file
    assert key.stat().st_mode & 0o777 == 0o600
    assert settings.resolved_pseudonym_key_file.stat().st_mode & 0o777 == 0o600
    os.chmod(key, 0o644)
    with pytest.raises(KeyError_, match="chmod 600"):
        CaseStore.open(settings)
    os.chmod(key, 0o600)
    load_ring(key)


def test_keys_from_environment(tmp_path: Path, ctip_home: Path) -> None:
    import base64
    import secrets

    seal = base64.b64encode(secrets.token_bytes(32)).decode()
    pseudo = base64.b64encode(secrets.token_bytes(32)).decode()
    (tmp_path / "home").mkdir()
    settings = make_settings(tmp_path / "home").model_copy(
        update={"seal_key": seal, "pseudonym_key": pseudo})
    init_home(settings)
    assert not settings.resolved_key_file.exists()  # nothing written when keys come from env
    with CaseStore.open(settings) as store:
        _fill(store, 3)
        assert store.sealer.active_key_id.startswith("env-")
    bad = settings.model_copy(update={"seal_key": "not base64!"})
    with pytest.raises(KeyError_, match="CTIP_SEAL_KEY"):
        CaseStore.open(bad)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


names = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíóúñçÀÉ", min_size=1, max_size=8),
                 min_size=1, max_size=4)


@given(names, st.randoms())
def test_pseudonym_ignores_order_case_accents_spacing(parts: list[str], rnd: object) -> None:
    p = Pseudonymiser(b"k" * 32)
    shuffled = parts[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    variant = "  ".join(_strip_accents(x).upper() for x in shuffled)
    assert p.pseudonym(" ".join(parts), None, "1990") == p.pseudonym(variant, "", "1990")
    assert p.pseudonym(" ".join(parts), None, "1990") != p.pseudonym(" ".join(parts), None, "1991")
    assert Pseudonymiser(b"j" * 32).pseudonym(" ".join(parts), None, "1990") != p.pseudonym(
        " ".join(parts), None, "1990")


def test_normalise_name_examples() -> None:
    assert normalise_name("José-María", "O'Brien  López") == "brien jose lopez maria o"
    assert normalise_name(None, "  ") == ""
    assert Pseudonymiser(b"k" * 32).pseudonym(None, " ", "1990") is None


identities = st.builds(
    Identity,
    given_name=st.none() | st.text(),
    family_name=st.none() | st.text(),
    aliases=st.lists(st.text(), max_size=3).map(tuple),
    date_of_birth=st.none() | st.text(max_size=12),
    document_number=st.none() | st.text(),
    phone=st.none() | st.text(),
    email=st.none() | st.text(),
    address=st.none() | st.text(),
    narrative=st.none() | st.text(max_size=2000),
)


@given(identities, st.text(min_size=1, max_size=40))
def test_any_identity_survives_seal_and_open(identity: Identity, row_id: str) -> None:
    from ctip.storage.codec import identity_from_json, identity_json

    sealer = Sealer(KeyRing.generate())
    context = f"victims/{row_id}/identity"
    blob = sealer.seal(identity_json(identity), context=context)
    assert identity_from_json(sealer.open(blob, context=context)) == identity
    for text in (identity.given_name, identity.email, identity.narrative):
        if text and len(text.encode()) >= 8:
            assert text.encode() not in blob
