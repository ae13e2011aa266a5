"""Fixtures of the evidence tests: a case store, a local OpenSSL TSA made for this test session
(never committed), a notary key, and a locker over them, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service
from ctip.evidence.signing import new_signing_key
from ctip.services.anchoring import Notary
from ctip.services.casework import Casework
from ctip.services.evidence import Locker
from ctip.services.timestamping import LocalTSA, init_local_tsa
from ctip.storage.engine import make_engine, migrate
from ctip.storage.evidence_blobs import BlobStore
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Pseudonymiser, Sealer


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory: pytest.TempPathFactory) -> LocalTSA:
    folder = tmp_path_factory.mktemp("tsa") / "tsa"
    init_local_tsa(folder)
    return LocalTSA(folder)


@pytest.fixture
def casework(database_url: str) -> Iterator[Casework]:
    engine = make_engine(database_url)
    migrate(engine)
    cw = Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    admin = Principal("setup", "setup", Role.ADMIN, "Z")
    for agency in ("B", "C"):  # a referral goes only to an agency the directory lists
        cw.add_service(admin, Service("", agency, f"Shelter {agency}", "safe_accommodation"))
    yield cw
    engine.dispose()


def _locker(casework: Casework, tsa: LocalTSA, folder: Path) -> Locker:
    notary = Notary(new_signing_key())
    return Locker(casework, BlobStore(folder / "blobs"), lambda: tsa, lambda: notary)


@pytest.fixture
def locker(casework: Casework, local_tsa: LocalTSA, tmp_path: Path) -> Locker:
    return _locker(casework, local_tsa, tmp_path)


@pytest.fixture
def sqlite_locker(local_tsa: LocalTSA, tmp_path: Path) -> Iterator[Locker]:
    """For tests whose subject does not touch the database's dialect (web captures)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'ctip.db'}")
    migrate(engine)
    yield _locker(Casework(engine, Sealer(KeyRing.generate()),
                           Pseudonymiser(secrets.token_bytes(32))), local_tsa, tmp_path)
    engine.dispose()
