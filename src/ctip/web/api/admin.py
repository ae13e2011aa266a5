"""REST routes for sessions, users, the dashboard, de-identified data and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ctip.web.api.schemas import (
    NO_NUL,
    AuditEntryPublic,
    AuditVerifyPublic,
    DashboardPublic,
    DeidentifiedCase,
    SessionCreate,
    SessionPublic,
    UserCreate,
    UserCreated,
    UserListed,
    UserPublic,
)
from ctip.web.security import (
    SESSION_COOKIE,
    AccountsDep,
    CaseworkDep,
    PrincipalDep,
    SessionDep,
    set_session_cookie,
)

router = APIRouter(tags=["session"])


@router.post("/session", response_model=SessionPublic, status_code=status.HTTP_201_CREATED)
def login(
    body: SessionCreate, request: Request, response: Response, accounts: AccountsDep
) -> SessionPublic:
    """Log in with password and one-time code. Sets the session cookie and returns the token."""
    result = accounts.login(body.username.lower(), body.password, body.code)
    set_session_cookie(request, response, result.token, accounts.session_minutes * 60)
    p = result.principal
    return SessionPublic(
        token=result.token,
        csrf_token=result.csrf_token,
        expires_at=result.expires_at,
        user=UserPublic(user_id=p.user_id, username=p.username, role=p.role.value, agency=p.agency),
    )


@router.get("/session", response_model=UserPublic)
def me(who: PrincipalDep) -> UserPublic:
    return UserPublic(
        user_id=who.user_id, username=who.username, role=who.role.value, agency=who.agency
    )


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    session: SessionDep, request: Request, response: Response, accounts: AccountsDep
) -> None:
    accounts.logout_hash(session.token_hash)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/users", response_model=list[UserListed], tags=["users"])
def users(who: PrincipalDep, accounts: AccountsDep) -> list[UserListed]:
    return [UserListed(**u) for u in accounts.users(who)]


@router.post(
    "/users", response_model=UserCreated, status_code=status.HTTP_201_CREATED, tags=["users"]
)
def add_user(body: UserCreate, who: PrincipalDep, accounts: AccountsDep) -> UserCreated:
    """Admins add users; the answer carries the TOTP URI once (it is sealed at rest)."""
    new = accounts.add_user(who, body.username, body.password, role=body.role, agency=body.agency)
    return UserCreated(
        user_id=new.user_id,
        username=new.username,
        role=new.role,
        agency=new.agency,
        otpauth_uri=new.otpauth_uri,
    )


@router.get("/dashboard", response_model=DashboardPublic, tags=["dashboard"])
def dashboard(who: PrincipalDep, cw: CaseworkDep) -> DashboardPublic:
    """Cases by status, overdue referrals and caseload by month for your agency."""
    from dataclasses import asdict

    return DashboardPublic(**asdict(cw.dashboard(who)))


@router.get("/deidentified/cases", response_model=list[DeidentifiedCase], tags=["analysis"])
def deidentified(
    who: PrincipalDep, cw: CaseworkDep, limit: Annotated[int, Query(ge=1, le=10000)] = 1000
) -> list[DeidentifiedCase]:
    """Your agency's cases with no identifier and no case number (analysts)."""
    return [DeidentifiedCase(**row) for row in cw.deidentified_cases(who, limit=limit)]


@router.get("/audit", response_model=list[AuditEntryPublic], tags=["audit"])
def audit(
    who: PrincipalDep,
    cw: CaseworkDep,
    subject: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    action: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditEntryPublic]:
    """The audit log (auditors only)."""
    return [
        AuditEntryPublic(**e)
        for e in cw.audit_entries(who, subject=subject, action=action, limit=limit)
    ]


@router.get("/audit/verify", response_model=AuditVerifyPublic, tags=["audit"])
def audit_verify(who: PrincipalDep, cw: CaseworkDep) -> AuditVerifyPublic:
    return AuditVerifyPublic(**cw.verify_audit(who))
