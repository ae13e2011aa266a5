"""Changes to accounts: administrators' reach (agency, grantable roles), own password and TOTP
re-enrolment, a reused one-time code that does not count towards the lockout; every change
audited without a secret. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from ctip.domain.access import Principal, Role
from ctip.errors import (
    AuthenticationError,
    CodeReusedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ctip.services.accounts import Accounts
from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.storage.audit import AuditLog
from ctip.storage.casework import users
from ctip.storage.engine import make_engine, migrate
from ctip.storage.sealing import Sealer, load_keys

PASSWORD = "correct horse battery staple"
START = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def step(self, seconds: float = 30) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[tuple[Accounts, Clock]]:
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    init_home(settings)
    ring, _ = load_keys(settings)
    engine = make_engine(database_url)
    migrate(engine)
    clock = Clock()
    accounts = Accounts(engine, Sealer(ring), AuditLog(), clock=clock,
                        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield accounts, clock
    engine.dispose()


def _secret(uri: str) -> str:
    return parse_qs(urlparse(uri).query)["secret"][0]


def _add(accounts: Accounts, name: str, role: str, agency: str) -> tuple[Principal, str]:
    new = accounts.add_user(None, name, PASSWORD, role=role, agency=agency)
    return accounts.principal_for(name), _secret(new.otpauth_uri)


def _code(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def _failures(accounts: Accounts, name: str) -> int:
    with accounts.engine.connect() as conn:
        return int(conn.execute(sa.select(users.c.failed_logins)
                                .where(users.c.username == name)).scalar_one())


def _audit(accounts: Accounts) -> list:  # type: ignore[type-arg]
    with accounts.engine.connect() as conn:
        return list(accounts.audit.entries(conn))


def test_an_administrator_reaches_their_own_agency_only(world) -> None:  # type: ignore[no-untyped-def]
    accounts, _ = world
    admin_a, _ = _add(accounts, "adm-a", "admin", "A")
    national, _ = _add(accounts, "nat", "national_admin", "Ministry")
    _add(accounts, "cw-b", "caseworker", "B")
    accounts.add_user(admin_a, "cw-a", PASSWORD, role="caseworker", agency="A")
    with pytest.raises(PermissionDeniedError):
        accounts.add_user(admin_a, "cw-b2", PASSWORD, role="caseworker", agency="B")
    with pytest.raises(PermissionDeniedError):  # nobody grants more than they may
        accounts.add_user(admin_a, "nat2", PASSWORD, role="national_admin", agency="A")
    assert {u["username"] for u in accounts.users(admin_a)} == {"adm-a", "cw-a"}
    assert {u["username"] for u in accounts.users(national)} == {"adm-a", "cw-a", "cw-b", "nat"}
    # a user of another agency is answered exactly like a user that does not exist
    for change in (lambda n: accounts.unlock(admin_a, n),
                   lambda n: accounts.set_active(admin_a, n, False),
                   lambda n: accounts.set_role(admin_a, n, "supervisor")):
        with pytest.raises(NotFoundError) as other:
            change("cw-b")
        with pytest.raises(NotFoundError) as ghost:
            change("nobody")
        assert other.value.message.replace("cw-b", "X") == ghost.value.message.replace(
            "nobody", "X")
    with pytest.raises(PermissionDeniedError):
        accounts.set_role(admin_a, "cw-a", "national_admin")
    accounts.set_role(national, "cw-b", "supervisor")
    assert accounts.principal_for("cw-b").role is Role.SUPERVISOR
    analyst, _ = _add(accounts, "an-a", "analyst", "A")
    with pytest.raises(PermissionDeniedError):
        accounts.users(analyst)


def test_no_administrator_demotes_or_deactivates_themselves(world) -> None:  # type: ignore[no-untyped-def]
    accounts, _ = world
    admin_a, _ = _add(accounts, "adm-a", "admin", "A")
    with pytest.raises(ValidationError):
        accounts.set_active(admin_a, "adm-a", False)
    with pytest.raises(ValidationError):
        accounts.set_role(admin_a, "adm-a", "caseworker")
    assert accounts.principal_for("adm-a").role is Role.ADMIN


def test_deactivation_and_role_change_end_sessions(world) -> None:  # type: ignore[no-untyped-def]
    accounts, clock = world
    admin_a, _ = _add(accounts, "adm-a", "admin", "A")
    _, secret = _add(accounts, "cw-a", "caseworker", "A")
    token = accounts.login("cw-a", PASSWORD, _code(secret, clock)).token
    accounts.set_role(admin_a, "cw-a", "supervisor")
    with pytest.raises(AuthenticationError):
        accounts.session(token)
    clock.step()
    token = accounts.login("cw-a", PASSWORD, _code(secret, clock)).token
    assert accounts.session(token).principal.role is Role.SUPERVISOR
    accounts.set_active(admin_a, "cw-a", False)
    with pytest.raises(AuthenticationError):
        accounts.session(token)
    clock.step()
    with pytest.raises(AuthenticationError):
        accounts.login("cw-a", PASSWORD, _code(secret, clock))
    accounts.set_active(admin_a, "cw-a", True)
    clock.step()
    accounts.login("cw-a", PASSWORD, _code(secret, clock))
    actions = [e.action for e in _audit(accounts)]
    for wanted in ("user.role", "user.deactivate", "user.activate"):
        assert wanted in actions
    role_entry = next(e for e in _audit(accounts) if e.action == "user.role")
    assert role_entry.details["from"] == "caseworker" and role_entry.details["role"] == "supervisor"
    assert role_entry.actor == "adm-a"


def test_a_user_changes_their_password(world) -> None:  # type: ignore[no-untyped-def]
    accounts, clock = world
    me, secret = _add(accounts, "cw-a", "caseworker", "A")
    here = accounts.login("cw-a", PASSWORD, _code(secret, clock)).token
    clock.step()
    elsewhere = accounts.login("cw-a", PASSWORD, _code(secret, clock)).token
    with pytest.raises(AuthenticationError):
        accounts.change_password(me, "not my password", "a brand new passphrase")
    assert _failures(accounts, "cw-a") == 1  # a wrong current password counts, as at sign-in
    with pytest.raises(ValidationError):
        accounts.change_password(me, PASSWORD, "short")
    with pytest.raises(ValidationError):
        accounts.change_password(me, PASSWORD, PASSWORD)
    ended = accounts.change_password(me, PASSWORD, "a brand new passphrase", keep_token=here)
    assert ended == 1
    assert accounts.session(here).principal.username == "cw-a"
    with pytest.raises(AuthenticationError):
        accounts.session(elsewhere)
    clock.step()
    with pytest.raises(AuthenticationError):
        accounts.login("cw-a", PASSWORD, _code(secret, clock))
    clock.step()
    accounts.login("cw-a", "a brand new passphrase", _code(secret, clock))
    text = json.dumps([e.details for e in _audit(accounts)])
    assert PASSWORD not in text and "brand new" not in text


def test_totp_re_enrolment_replaces_the_secret_once_confirmed(world) -> None:  # type: ignore[no-untyped-def]
    accounts, clock = world
    me, old = _add(accounts, "cw-a", "caseworker", "A")
    other, _ = _add(accounts, "cw-b", "caseworker", "A")
    with pytest.raises(AuthenticationError):
        accounts.start_totp_enrolment(me, "wrong")
    enrolment = accounts.start_totp_enrolment(me, PASSWORD)
    new = _secret(enrolment.otpauth_uri)
    assert new != old and enrolment.secret.replace(" ", "") == new
    # the old app keeps working until the new one is confirmed
    accounts.login("cw-a", PASSWORD, _code(old, clock))
    with pytest.raises(ValidationError) as wrong:
        accounts.finish_totp_enrolment(me, enrolment.token, "000000"
                                       if _code(new, clock) != "000000" else "111111")
    assert wrong.value.column == "code"
    with pytest.raises(ValidationError) as not_mine:  # another user cannot use my enrolment
        accounts.finish_totp_enrolment(other, enrolment.token, _code(new, clock))
    assert not_mine.value.column == "token"
    raw = bytearray(base64.urlsafe_b64decode(enrolment.token))
    raw[-1] ^= 1
    with pytest.raises(ValidationError):  # one bit changed: does not open
        accounts.finish_totp_enrolment(me, base64.urlsafe_b64encode(bytes(raw)).decode(),
                                       _code(new, clock))
    accounts.finish_totp_enrolment(me, enrolment.token, _code(new, clock))
    with pytest.raises(CodeReusedError):  # the confirming code opens no sign-in afterwards
        accounts.login("cw-a", PASSWORD, _code(new, clock))
    clock.step()
    with pytest.raises(AuthenticationError):
        accounts.login("cw-a", PASSWORD, _code(old, clock))
    clock.step()
    accounts.login("cw-a", PASSWORD, _code(new, clock))
    text = json.dumps([e.details for e in _audit(accounts)])
    assert new not in text and "user.totp_reenrol" in [e.action for e in _audit(accounts)]


def test_an_enrolment_expires(world) -> None:  # type: ignore[no-untyped-def]
    accounts, clock = world
    me, _ = _add(accounts, "cw-a", "caseworker", "A")
    enrolment = accounts.start_totp_enrolment(me, PASSWORD)
    clock.step(16 * 60)
    with pytest.raises(ValidationError) as late:
        accounts.finish_totp_enrolment(me, enrolment.token,
                                       _code(_secret(enrolment.otpauth_uri), clock))
    assert late.value.column == "token"


def test_a_reused_code_says_wait_and_does_not_count(world) -> None:  # type: ignore[no-untyped-def]
    accounts, clock = world
    _, secret = _add(accounts, "cw-a", "caseworker", "A")
    code = _code(secret, clock)
    accounts.login("cw-a", PASSWORD, code)
    for _ in range(accounts.max_failures + 2):  # more than would lock the account
        with pytest.raises(CodeReusedError):
            accounts.login("cw-a", PASSWORD, code)
    assert _failures(accounts, "cw-a") == 0
    clock.step()
    accounts.login("cw-a", PASSWORD, _code(secret, clock))  # not locked
    # a wrong password with the same reused code is an ordinary failure (and says nothing)
    with pytest.raises(AuthenticationError) as wrong:
        accounts.login("cw-a", "wrong password", code)
    assert not isinstance(wrong.value, CodeReusedError)
    assert _failures(accounts, "cw-a") == 1
    assert "login.code_reused" in [e.action for e in _audit(accounts)]


def test_an_administrator_resets_a_lost_authenticator(world) -> None:  # type: ignore[no-untyped-def]
    accounts, clock = world
    admin_a, _ = _add(accounts, "adm-a", "admin", "A")
    _, old = _add(accounts, "cw-a", "caseworker", "A")
    _add(accounts, "cw-b", "caseworker", "B")
    token = accounts.login("cw-a", PASSWORD, _code(old, clock)).token
    with pytest.raises(NotFoundError):  # another agency's user: out of reach
        accounts.reset_totp(admin_a, "cw-b")
    with pytest.raises(ValidationError):  # their own: through "My account"
        accounts.reset_totp(admin_a, "adm-a")
    new = _secret(accounts.reset_totp(admin_a, "cw-a"))
    with pytest.raises(AuthenticationError):
        accounts.session(token)  # the lost phone's session ended
    clock.step()
    with pytest.raises(AuthenticationError):
        accounts.login("cw-a", PASSWORD, _code(old, clock))
    clock.step()
    accounts.login("cw-a", PASSWORD, _code(new, clock))
    entry = next(e for e in _audit(accounts) if e.action == "user.totp_reset")
    assert entry.actor == "adm-a" and new not in json.dumps(entry.details)
