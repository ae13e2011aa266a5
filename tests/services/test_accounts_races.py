"""Sign-in races: concurrent sign-ins are what an attacker sends, so each rule must hold under them.

Threads with their own database connections are released together by a barrier, on SQLite and
PostgreSQL. A code opens one session however many sign-ins carry it; no more guesses are checked
than the lockout allows; every failure is counted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from ctip.errors import AuthenticationError
from ctip.services.accounts import Accounts
from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.storage.casework import users
from ctip.storage.engine import make_engine, migrate
from ctip.storage.sealing import Sealer, load_keys
from ctip.storage.tables import audit_log

PASSWORD = "correct horse battery staple"


class CountingHasher(PasswordHasher):
    """Cheap argon2 that counts checks of real password hashes (not the dummy one) and takes a
    while, so concurrent attempts overlap as they do against the default argon2 settings."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.delay = delay
        self.real: set[str] = set()
        self.checked: list[str] = []
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        if hash in self.real:
            with self._lock:
                self.checked.append(str(password))
        time.sleep(self.delay)
        return super().verify(hash, password)


@pytest.fixture
def make_accounts(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Accounts]]:
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    init_home(settings)
    ring, _ = load_keys(settings)
    engine = make_engine(database_url)
    migrate(engine)

    def make(**options: object) -> Accounts:
        return Accounts(engine, Sealer(ring), **options)  # type: ignore[arg-type]

    yield make
    engine.dispose()


def _user(accounts: Accounts, hasher: CountingHasher) -> str:
    new = accounts.add_user(None, "cw-a", PASSWORD, role="caseworker", agency="A")
    with accounts.engine.connect() as conn:
        hasher.real.add(conn.execute(sa.select(users.c.password_hash)).scalar_one())
    return parse_qs(urlparse(new.otpauth_uri).query)["secret"][0]


def _together(attempts: list[tuple[str, str]], accounts: Accounts) -> list[bool]:
    """Run every (password, code) sign-in at once; True for each that opened a session."""
    barrier = threading.Barrier(len(attempts))

    def one(attempt: tuple[str, str]) -> bool:
        barrier.wait()
        try:
            accounts.login("cw-a", *attempt)
            return True
        except AuthenticationError:
            return False

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(one, attempts))


def _failures(accounts: Accounts) -> tuple[int, int]:
    """(failed_logins counter, login.failed audit entries)."""
    with accounts.engine.connect() as conn:
        counter = conn.execute(sa.select(users.c.failed_logins)).scalar_one()
        audited = conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.action == "login.failed")
        ).scalar_one()
    return int(counter), int(audited)


def test_one_code_opens_one_session_however_many_sign_ins_carry_it(make_accounts) -> None:  # type: ignore[no-untyped-def]
    hasher = CountingHasher(delay=0.05)
    accounts = make_accounts(hasher=hasher)
    secret = _user(accounts, hasher)
    code = pyotp.TOTP(secret).now()
    results = _together([(PASSWORD, code)] * 8, accounts)
    assert results.count(True) == 1, results
    with accounts.engine.connect() as conn:
        sessions = conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar_one()
    assert sessions == 1


def test_concurrent_guesses_are_checked_no_more_than_the_lockout_allows(make_accounts) -> None:  # type: ignore[no-untyped-def]
    hasher = CountingHasher(delay=0.2)
    accounts = make_accounts(hasher=hasher)
    secret = _user(accounts, hasher)
    wrong = [(f"wrong guess number {i:02d}", "000000") for i in range(30)]
    assert _together(wrong, accounts) == [False] * 30
    assert len(hasher.checked) == accounts.max_failures == 5  # not 30
    counter, audited = _failures(accounts)
    assert audited == 30  # every attempt audited, the refused ones too
    # locked: the right password and code are refused, and not even checked
    with pytest.raises(AuthenticationError):
        accounts.login("cw-a", PASSWORD, pyotp.TOTP(secret).now())
    assert len(hasher.checked) == 5


def test_the_right_guess_among_concurrent_ones_does_not_pass_the_lockout(make_accounts) -> None:  # type: ignore[no-untyped-def]
    hasher = CountingHasher(delay=0.2)
    accounts = make_accounts(hasher=hasher)
    secret = _user(accounts, hasher)
    attempts = [(f"wrong guess number {i:02d}", "000000") for i in range(29)]
    attempts.insert(17, (PASSWORD, pyotp.TOTP(secret).now()))
    results = _together(attempts, accounts)
    successes = results.count(True)
    assert successes <= 1
    # a success resets the count, so at most one more window of guesses may be checked after it
    assert len(hasher.checked) <= accounts.max_failures * (1 + successes), hasher.checked
    assert successes == (PASSWORD in hasher.checked)  # it succeeded only if it was checked


def test_every_concurrent_failure_is_counted(make_accounts) -> None:  # type: ignore[no-untyped-def]
    hasher = CountingHasher(delay=0.02)
    accounts = make_accounts(hasher=hasher, max_failures=100)
    _user(accounts, hasher)
    assert _together([(f"wrong {i}", "123456") for i in range(40)], accounts) == [False] * 40
    assert _failures(accounts) == (40, 40)
    assert len(hasher.checked) == 40
