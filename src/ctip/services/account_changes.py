"""Changes to accounts: administrators manage users; every user looks after their own sign-in.

- Administrators create, deactivate, reactivate and unlock users and set their roles. An
  administrator reaches the users of their own agency; a national administrator, those of every
  agency (``domain/access.py``: ``may_manage_user``, ``may_grant_role``). A user out of reach is
  answered exactly like a user that does not exist, so the answer tells nothing about other
  agencies' staff. Nobody grants a role they could not be given by themselves, nor changes the
  role of, or deactivates, their own account (an agency must not lose its last administrator by a
  slip).
- Every user changes their own password (the current one first) and re-enrols their
  authenticator app; both end the user's other sessions (a lost phone or a shared password is the
  usual reason).
- Every change is one entry in the store's keyed audit log: who, whom, what; never a password,
  a hash or a secret.

TOTP re-enrolment is two steps: the user confirms their password and gets a new secret (a QR
code and its URI); it replaces the old one only once a code from it is entered, so a slip
between the two steps cannot lock anyone out. Between the steps the new secret travels in the
form *sealed* (authenticated encryption bound to the user and to this purpose, with the time it
was made; a sealed value changed by one bit does not open) rather than in a table: nothing
half-done stays at rest, and it expires after ``ENROLMENT_MINUTES``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ctip.domain.access import (
    ROLE_ACTIONS,
    Action,
    Principal,
    Role,
    may_grant_role,
    may_manage_user,
    require_role,
)
from ctip.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    SealError,
    ValidationError,
)
from ctip.storage import accounts as adb
from ctip.storage import casework as db
from ctip.storage import casework_sealing as sdb

if TYPE_CHECKING:
    import sqlalchemy as sa
    from argon2 import PasswordHasher

    from ctip.storage.audit import AuditLog
    from ctip.storage.sealing import Sealer

MIN_PASSWORD = 12
ENROLMENT_MINUTES = 15
ISSUER = "ctip"


def check_password(password: str, username: str) -> None:
    """The rule for a new password: long enough, and not the user name."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            "password must have at least {count} characters", column="password",
            params={"count": MIN_PASSWORD},
        )
    if password.strip().lower() == username.lower():
        raise ValidationError("the password must not be the user name", column="password")


def require_scope(actor: Principal, agency: str, role: Role) -> None:
    """The administrator may manage users of ``agency`` and grant ``role`` (else 403)."""
    require_role(actor, Action.USERS_MANAGE)
    if not may_manage_user(actor, agency):
        raise PermissionDeniedError(
            "you manage the users of your own agency only",
            hint="a national administrator manages the users of other agencies",
        )
    if not may_grant_role(actor, role):
        raise PermissionDeniedError(
            "only a national administrator grants this role",
            hint="ask a national administrator",
        )


def totp_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code matches (one step of clock drift either way), or None."""
    totp = pyotp.TOTP(secret)
    if not code.isdigit():
        return None
    now_step = totp.timecode(at)
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def otpauth_uri(secret: str, username: str, agency: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=f"{username}@{agency}", issuer_name=ISSUER)


@dataclass(frozen=True)
class TotpEnrolment:
    otpauth_uri: str  # for the QR code and for typing in by hand
    secret: str  # the same secret, in groups, for apps that take it typed in
    token: str  # the sealed new secret, sent back with the first code


def _enrolment_context(user_id: str) -> str:
    return f"user/{user_id}/totp-enrolment"


def _no_user(username: str) -> NotFoundError:
    return NotFoundError("no user {username}", hint="the list of users shows them",
                         params={"username": repr(username)})


class AccountChanges:
    """Mixed into ``services.accounts.Accounts`` (which sets these attributes)."""

    engine: sa.Engine
    sealer: Sealer
    audit: AuditLog
    clock: Callable[[], datetime]
    hasher: PasswordHasher
    max_failures: int

    # -- administrators -------------------------------------------------------------------

    def users(self, actor: Principal) -> list[dict[str, Any]]:
        """The users the administrator manages: their agency's, or every agency's."""
        require_role(actor, Action.USERS_MANAGE)
        every = Action.USERS_MANAGE_ALL in ROLE_ACTIONS.get(actor.role, frozenset())
        agency = None if every else actor.agency
        at = self.clock()
        with self.engine.begin() as conn:
            rows = adb.list_users(conn, agency=agency)
        out = []
        for r in rows:
            locked_until = db.aware(r.locked_until)
            out.append({
                "user_id": r.user_id,
                "username": r.username,
                "role": r.role,
                "agency": r.agency,
                "active": bool(r.active),
                "locked_until": locked_until,
                "locked": locked_until is not None and locked_until > at,
                "failed_logins": int(r.failed_logins or 0),
                "created_at": db.aware(r.created_at),
                "last_login_at": db.aware(r.last_login_at),
            })
        return out

    def unlock(self, actor: Principal | None, username: str) -> None:
        """Lift a lockout (``actor`` None = the local CLI)."""
        self._change(actor, username, "user.unlock", {}, failed_logins=0, locked_until=None)

    def set_active(self, actor: Principal | None, username: str, active: bool) -> None:
        """Deactivate (or reactivate) an account; a deactivated user's sessions end at once."""
        self._change(actor, username, "user.activate" if active else "user.deactivate", {},
                     active=active)

    def set_role(self, actor: Principal | None, username: str, role: str) -> None:
        """Give a user another role (within what the administrator may grant)."""
        try:
            new = Role(role)
        except ValueError:
            raise ValidationError("role not recognised", column="role", value=role,
                                  allowed=", ".join(r.value for r in Role)) from None
        self._change(actor, username, "user.role", {"role": new.value}, role=new.value)

    def reset_totp(self, actor: Principal | None, username: str) -> str:
        """A new authenticator secret for a user who lost theirs (the old one stops working and
        their sessions end); the otpauth URI, to be shown to that user once."""
        if actor is not None:
            require_role(actor, Action.USERS_MANAGE)
        secret = pyotp.random_base32()
        with self.engine.begin() as conn:
            row = self._target(conn, actor, username, "user.totp_reset")
            adb.update_user(conn, row.user_id, totp_last_step=None, totp_sealed=self.sealer.seal(
                secret, context=sdb.totp_context(row.user_id)))
            ended = adb.delete_user_sessions(conn, row.user_id)
            self.audit.append(conn, actor=actor.username if actor else "cli",
                              action="user.totp_reset", subject=row.user_id,
                              details={"username": username, "agency": row.agency,
                                       "sessions_ended": ended})
        return otpauth_uri(secret, row.username, row.agency)

    def _target(self, conn: Any, actor: Principal | None, username: str, action: str) -> Any:
        """The user an administrator acts on, if within their reach (else "no such user")."""
        row = adb.get_user(conn, username=username)
        if row is None or (actor is not None and not may_manage_user(actor, row.agency)):
            raise _no_user(username)
        if actor is not None:
            if row.user_id == actor.user_id and action in (
                    "user.role", "user.deactivate", "user.totp_reset"):
                raise ValidationError(
                    "you cannot change the role of, or deactivate, your own account",
                    hint="another administrator of your agency can",
                )
            # nobody acts on an account holding more than they may grant
            require_scope(actor, row.agency, Role(row.role))
        return row

    def _change(self, actor: Principal | None, username: str, action: str,
                details: dict[str, Any], **values: Any) -> None:
        if actor is not None:
            require_role(actor, Action.USERS_MANAGE)
        with self.engine.begin() as conn:
            row = self._target(conn, actor, username, action)
            if actor is not None and "role" in values:
                require_scope(actor, row.agency, Role(values["role"]))
            if "role" in values:
                details = {**details, "from": row.role}
            adb.update_user(conn, row.user_id, **values)
            ended = 0
            if values.get("active") is False or "role" in values:
                # a role change takes effect at the next sign-in: end the sessions now
                ended = adb.delete_user_sessions(conn, row.user_id)
            self.audit.append(
                conn,
                actor=actor.username if actor else "cli",
                action=action,
                subject=row.user_id,
                details={"username": username, "agency": row.agency, **details,
                         **({"sessions_ended": ended} if ended else {})},
            )

    # -- every user, for their own account -------------------------------------------------

    def _check_own_password(self, principal: Principal, password: str) -> Any:
        """The user's row if ``password`` is theirs; a wrong one counts towards the lockout
        exactly as at sign-in (a stolen session cannot guess the password for ever)."""
        at = self.clock()
        with self.engine.begin() as conn:
            row = adb.get_user(conn, user_id=principal.user_id)
            if row is None:
                raise AuthenticationError("you are not logged in", hint="log in again")
            count = adb.reserve_login_attempt(
                conn, row.user_id, at=at, max_failures=self.max_failures,
                lock_until=at + timedelta(minutes=15),
            )
        right = count is not None and self._verify(row.password_hash, password)
        with self.engine.begin() as conn:
            if right:
                adb.release_login_attempt(conn, row.user_id, max_failures=self.max_failures)
                return row
            self.audit.append(conn, actor=principal.username, action="user.password_check_failed",
                              subject=row.user_id, details={"locked": count is None})
        raise AuthenticationError(
            "the current password is wrong, or the account is locked after repeated failures",
            hint="type your current password again; an administrator can unlock you",
        )

    def change_password(self, principal: Principal, current: str, new: str, *,
                        keep_token: str | None = None) -> int:
        """Replace the user's password; ends their other sessions (how many)."""
        check_password(new, principal.username)
        if secrets.compare_digest(current.encode(), new.encode()):
            raise ValidationError("the new password is the same as the current one",
                                  column="password")
        row = self._check_own_password(principal, current)
        with self.engine.begin() as conn:
            adb.update_user(conn, row.user_id, password_hash=self.hasher.hash(new))
            ended = adb.delete_user_sessions(
                conn, row.user_id, keep=hash_token(keep_token) if keep_token else None)
            self.audit.append(conn, actor=principal.username, action="user.password_change",
                              subject=row.user_id, details={"sessions_ended": ended})
        return ended

    def start_totp_enrolment(self, principal: Principal, password: str) -> TotpEnrolment:
        """Step 1 of re-enrolment: the password again, then a new secret (not yet in use)."""
        row = self._check_own_password(principal, password)
        secret = pyotp.random_base32()
        payload = json.dumps({"s": secret, "t": self.clock().isoformat()})
        with self.engine.begin() as conn:  # sealed in a transaction: checked against rotation
            sealed = self.sealer.seal(payload, context=_enrolment_context(row.user_id))
            self.audit.append(conn, actor=principal.username, action="user.totp_enrol_start",
                              subject=row.user_id, details={})
        token = base64.urlsafe_b64encode(sealed).decode("ascii")
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        return TotpEnrolment(otpauth_uri(secret, row.username, row.agency), grouped, token)

    def _open_enrolment(self, principal: Principal, token: str) -> str:
        """The new secret in an enrolment token, if it is this user's and not expired."""
        expired = ValidationError(
            "this enrolment has expired or is not yours", column="token",
            hint="start again: confirm your password to get a new code",
        )
        try:
            sealed = base64.urlsafe_b64decode(token.encode("ascii"))
            payload = json.loads(self.sealer.open(sealed,
                                                  context=_enrolment_context(principal.user_id)))
            made = datetime.fromisoformat(payload["t"])
            secret = str(payload["s"])
        except (SealError, ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
            raise expired from None
        if not timedelta(0) <= self.clock() - made <= timedelta(minutes=ENROLMENT_MINUTES):
            raise expired
        return secret

    def reopen_totp_enrolment(self, principal: Principal, token: str) -> TotpEnrolment:
        """The QR code of an enrolment under way again (after a mistyped code)."""
        secret = self._open_enrolment(principal, token)
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        return TotpEnrolment(otpauth_uri(secret, principal.username, principal.agency), grouped,
                             token)

    def finish_totp_enrolment(self, principal: Principal, token: str, code: str, *,
                              keep_token: str | None = None) -> None:
        """Step 2: a code from the new secret makes it the one in use."""
        secret = self._open_enrolment(principal, token)
        at = self.clock()
        step = totp_step(secret, str(code).strip(), at)
        if step is None:
            raise ValidationError(
                "the code does not match the new secret", column="code",
                hint="scan the QR code again, then type the six digits your app shows now",
            )
        with self.engine.begin() as conn:
            adb.update_user(
                conn, principal.user_id,
                totp_sealed=self.sealer.seal(secret, context=sdb.totp_context(principal.user_id)),
                totp_last_step=step,  # this code opens no sign-in afterwards
            )
            ended = adb.delete_user_sessions(
                conn, principal.user_id, keep=hash_token(keep_token) if keep_token else None)
            self.audit.append(conn, actor=principal.username, action="user.totp_reenrol",
                              subject=principal.user_id, details={"sessions_ended": ended})

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
