"""Users, login and sessions: argon2 passwords, TOTP second factor, lockout, idle timeout.

Why these choices: argon2id (argon2-cffi) is the current password-hashing recommendation; TOTP
(pyotp) works offline on any phone, which matters for NGOs without an identity provider; the TOTP
secret is sealed like victim identity; sessions are random tokens of which only a SHA-256 is stored,
so a copy of the database opens no session. Every failed login is audited; after
``MAX_FAILURES`` the account locks for ``LOCKOUT_MINUTES``. The message for a failed login is the
same whatever went wrong, so it does not tell an attacker which usernames exist.

Stable names: ``add_user``, ``login``, ``session``, ``logout``, ``principal_for``; the changes to
accounts (``users``, ``unlock``, ``set_active``, ``set_role``, ``change_password``, TOTP
re-enrolment) are in ``services/account_changes.py``.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ctip.domain.access import Principal, Role
from ctip.errors import AuthenticationError, CodeReusedError, ValidationError
from ctip.services.account_changes import (
    AccountChanges,
    check_password,
    hash_token,
    otpauth_uri,
    require_scope,
    totp_step,
)
from ctip.settings import Settings
from ctip.storage import accounts as adb
from ctip.storage import casework as db
from ctip.storage import casework_sealing as sdb
from ctip.storage.audit import AuditLog
from ctip.storage.engine import autocommit
from ctip.storage.sealing import Sealer
from ctip.storage.store import Store

MAX_FAILURES = 5
LOCKOUT_MINUTES = 15
SESSION_MAX_HOURS = 12  # a session ends after this even if used all along
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
CODE_REUSED = "this one-time code was already used"
_FAILED = (
    "username, password or one-time code is wrong, or the account is locked after repeated failures"
)


@dataclass(frozen=True)
class NewUser:
    user_id: str
    username: str
    role: str
    agency: str
    otpauth_uri: str  # shown once, for the authenticator app; the secret is sealed at rest


@dataclass(frozen=True)
class LoginResult:
    token: str
    csrf_token: str
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    principal: Principal
    csrf_token: str
    token_hash: str


class Accounts(AccountChanges):
    def __init__(
        self,
        engine: sa.Engine,
        sealer: Sealer,
        audit: AuditLog | None = None,
        *,
        session_minutes: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hasher: PasswordHasher | None = None,
        max_failures: int = MAX_FAILURES,
    ) -> None:
        """``hasher``: argon2id with the library's defaults (RFC 9106 low-memory profile) unless
        given; tests pass a cheaper one. Each hash records its parameters, so both verify."""
        self.engine, self.sealer = engine, sealer
        self.audit = audit or AuditLog()
        self.session_minutes = session_minutes
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.max_failures = max_failures
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """A hash to verify against when the user does not exist (same time either way)."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    @classmethod
    def from_settings(cls, settings: Settings, engine: sa.Engine, sealer: Sealer,
                      audit: AuditLog | None = None) -> Accounts:
        """``audit``: the store's (keyed) audit log, e.g. ``Casework.audit``."""
        return cls(engine, sealer, audit, session_minutes=settings.session_timeout_minutes)

    @classmethod
    def of(cls, store: Store) -> Accounts:
        """Over the store facade (``store.repository(Accounts.of)``), with its settings."""
        return cls(store.engine, store.sealer, store.audit,
                   session_minutes=store.settings.session_timeout_minutes)

    def add_user(
        self, actor: Principal | None, username: str, password: str, *, role: str, agency: str
    ) -> NewUser:
        """Create a user with a fresh TOTP secret. ``actor`` None = the local CLI (server
        operator)."""
        if not _USERNAME.match(username):
            raise ValidationError(
                "username must be 2-63 lower-case letters, digits, '.', '_' or '-'",
                column="username",
                value=username,
            )
        try:
            role_value = Role(role)
        except ValueError:
            raise ValidationError(
                "role not recognised",
                column="role",
                value=role,
                allowed=", ".join(r.value for r in Role),
            ) from None
        if not agency.strip():
            raise ValidationError("every user belongs to an agency", column="agency")
        if actor is not None:
            require_scope(actor, agency.strip(), role_value)
        check_password(password, username)
        user_id = str(uuid.uuid4())
        secret = pyotp.random_base32()
        with self.engine.begin() as conn:
            if adb.get_user(conn, username=username) is not None:
                raise ValidationError(
                    "a user with this name exists", column="username", value=username
                )
            adb.insert_user(
                conn,
                user_id=user_id,
                username=username,
                password_hash=self.hasher.hash(password),
                role=role_value.value,
                agency=agency.strip(),
                totp_sealed=self.sealer.seal(secret, context=sdb.totp_context(user_id)),
                failed_logins=0,
                active=True,
                created_at=self.clock(),
            )
            self.audit.append(
                conn,
                actor=actor.username if actor else "cli",
                action="user.add",
                subject=user_id,
                details={"username": username, "role": role_value.value, "agency": agency},
            )
        return NewUser(user_id, username, role_value.value, agency,
                       otpauth_uri(secret, username, agency))

    def login(self, username: str, password: str, totp_code: str) -> LoginResult:
        """Password + TOTP; lockout after repeated failures; one generic message for every
        failure.

        Race-free by construction (concurrent sign-ins are what an attacker sends): the attempt
        is counted as a failure and the lock tested in one atomic statement *before* the
        password is checked (``reserve_login_attempt``), so no more than ``max_failures``
        guesses are ever checked per lockout window however many arrive at once; a success
        uses its TOTP time step in one atomic statement (``claim_login``), so a code opens one
        session only, whatever the number of concurrent sign-ins carrying it."""
        at = self.clock()
        with self.engine.connect() as conn:
            user = adb.get_user(conn, username=username)
        if user is None:
            self._verify_dummy(password)  # same time as a real user
            self._audit_failure("anonymous", "unknown-user", {})
            raise AuthenticationError(
                _FAILED, hint="try again, or ask your administrator to unlock you"
            )
        with self.engine.begin() as conn:
            count = adb.reserve_login_attempt(
                conn,
                user.user_id,
                at=at,
                max_failures=self.max_failures,
                lock_until=at + timedelta(minutes=LOCKOUT_MINUTES),
            )
        step = None
        if count is None:  # locked or inactive: not checked, but it takes as long
            self._verify_dummy(password)
        elif self._verify(user.password_hash, password):
            secret = self.sealer.open(user.totp_sealed, context=sdb.totp_context(user.user_id))
            step = totp_step(secret, str(totp_code).strip(), at)
        if step is not None:
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            expires = at + timedelta(hours=SESSION_MAX_HOURS)
            with self.engine.begin() as conn:
                if adb.claim_login(conn, user.user_id, step=step, at=at):
                    adb.insert_session(
                        conn,
                        token_hash=hash_token(token),
                        user_id=user.user_id,
                        csrf_token=csrf,
                        created_at=at,
                        last_seen_at=at,
                        expires_at=expires,
                    )
                    self.audit.append(
                        conn, actor=user.username, action="login", subject=user.user_id,
                        details={},
                    )
                    principal = Principal(user.user_id, user.username, Role(user.role),
                                          user.agency)
                    return LoginResult(token, csrf, principal, expires)
            # the password was right and the code was valid but already used (or used a moment
            # ago by a concurrent sign-in): a person waiting for the next code, not a guess, so
            # the attempt is taken back from the lockout count and the page says to wait.
            # It tells the caller the password was right, but only one who also holds a current
            # code of this account: that is the account's owner (or someone with both factors).
            with self.engine.begin() as conn:
                adb.release_login_attempt(conn, user.user_id, max_failures=self.max_failures)
                self.audit.append(conn, actor=user.username, action="login.code_reused",
                                  subject=user.user_id, details={})
            raise CodeReusedError(
                CODE_REUSED, hint="wait until your authenticator app shows the next code"
            )
        # the reservation already counted this attempt
        self._audit_failure(
            user.username,
            user.user_id,
            {"locked": count is None or count >= self.max_failures, "checked": count is not None},
        )
        raise AuthenticationError(
            _FAILED, hint="try again, or ask your administrator to unlock you"
        )

    def _verify_dummy(self, password: str) -> None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            self.hasher.verify(self._dummy_hash, password)

    def _audit_failure(self, actor: str, subject: str, details: dict[str, object]) -> None:
        with self.engine.begin() as conn:
            self.audit.append(
                conn, actor=actor, action="login.failed", subject=subject, details=details
            )

    def session(self, token: str) -> SessionInfo:
        """The user behind a session token; expired after ``session_minutes`` of inactivity."""
        at = self.clock()
        token_hash = hash_token(token)
        ended = None
        # every request starts here: each statement on its own (the read, and now and then a
        # touch or the end of the session, need not be one transaction), one round trip each
        with autocommit(self.engine) as conn:
            row = adb.get_session(conn, token_hash)
            if row is None or not row.active:
                raise AuthenticationError("you are not logged in", hint="log in again")
            last = db.aware(row.last_seen_at)
            if db.aware(row.expires_at) < at:  # absolute lifetime, however active
                ended = "your session has ended"
            elif last + timedelta(minutes=self.session_minutes) < at:
                ended = "your session timed out"
            if ended:
                adb.delete_session(conn, token_hash)  # committed: the refusal is raised after
            elif (
                at - last
            ).total_seconds() > 30:  # touch at most every 30 s: fewer writes under load
                adb.touch_session(conn, token_hash, at)
        if ended:
            raise AuthenticationError(ended, hint="log in again")
        return SessionInfo(
            Principal(row.user_id, row.username, Role(row.role), row.agency),
            row.csrf_token,
            token_hash,
        )

    def logout(self, token: str) -> None:
        self.logout_hash(hash_token(token))

    def logout_hash(self, token_hash: str) -> None:
        """End a session known by its stored hash (the API's logout)."""
        with self.engine.begin() as conn:
            adb.delete_session(conn, token_hash)

    def principal_for(self, username: str) -> Principal:
        """The principal of a user by name (for the CLI and tests; no login)."""
        with self.engine.begin() as conn:
            row = adb.get_user(conn, username=username)
        if row is None:
            raise AuthenticationError("no user {username}", params={"username": repr(username)})
        return Principal(row.user_id, row.username, Role(row.role), row.agency)
