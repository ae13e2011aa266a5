"""Web security: who is calling (session cookie or bearer token), CSRF, cookies, response headers.

Why both a cookie and a bearer token: browsers use the HttpOnly session cookie; scripts and other
systems send the same session token as ``Authorization: Bearer``. A request authenticated by the
cookie that changes state must also carry the session's CSRF token (header ``X-CSRF-Token`` or
form field ``csrf_token``): a cross-site page can make the browser send the cookie, but it cannot
read the token. Bearer requests need no CSRF token (a browser never adds that header by itself).
Sessions expire after ``Settings.session_timeout_minutes`` of inactivity (``Accounts.session``).

The session cookie is HttpOnly, SameSite=Lax, path ``/`` and Secure whenever the request came over
HTTPS (``ctip serve`` trusts ``X-Forwarded-Proto`` from a local reverse proxy); the only plain-HTTP
case is a server on loopback during development, where browsers treat the origin as secure anyway.
"""

from __future__ import annotations

import hmac
from typing import Annotated, cast

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from ctip.domain.access import Principal
from ctip.errors import AuthenticationError, PermissionDeniedError
from ctip.services.accounts import Accounts, SessionInfo
from ctip.services.casework import Casework

SESSION_COOKIE = "ctip_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="the session token from POST /api/session")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="browser session")


def get_casework(request: Request) -> Casework:
    return cast(Casework, request.app.state.casework)


def get_accounts(request: Request) -> Accounts:
    return cast(Accounts, request.app.state.accounts)


CaseworkDep = Annotated[Casework, Depends(get_casework)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def csrf_ok(sent: str | None, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent), expected)


async def current_session(
    request: Request,
    accounts: AccountsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> SessionInfo:
    """The caller's session; 401 without one, 403 for a cookie-authenticated write without CSRF."""
    # the lookup is a database transaction: run it in the thread pool, never on the event
    # loop, which would stop every other request of this worker while it waits
    if bearer is not None and bearer.credentials:
        return await run_in_threadpool(accounts.session, bearer.credentials)
    if not cookie:
        raise AuthenticationError(
            "you are not logged in",
            hint="POST /api/session with username, password and code, then send the cookie or "
            "'Authorization: Bearer <token>'",
        )
    info = await run_in_threadpool(accounts.session, cookie)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            sent = str((await request.form()).get(CSRF_FIELD) or "")
        if not csrf_ok(sent, info.csrf_token):
            raise PermissionDeniedError(
                "the CSRF token is missing or wrong",
                hint=f"send the csrf_token from POST /api/session in the {CSRF_HEADER} header",
            )
    return info


SessionDep = Annotated[SessionInfo, Depends(current_session)]


def current_principal(session: SessionDep) -> Principal:
    return session.principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' "
    "'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # HTTPS only from the first visit on, for a year (browsers ignore it over plain HTTP, so a
    # development server on loopback is not affected)
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
