"""Sign in (password, then the one-time code from an authenticator app), sign out, language.

The password and the one-time code are checked together by ``Accounts.login`` (one generic
message whatever was wrong, so nobody learns which usernames exist); the page shows the second
factor as its own step of the same form. Before a session exists, the sign-in form is protected
from cross-site posting by a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ctip.errors import AuthenticationError
from ctip.web import i18n
from ctip.web.pages.common import (
    SESSION_COOKIE,
    FormDep,
    _,
    accounts,
    current_user,
    home_path,
    prepare,
    redirect,
    safe_next,
)
from ctip.web.pages.render import LANG_COOKIE, render
from ctip.web.security import set_session_cookie

router = APIRouter()
LOGIN_CSRF_COOKIE = "ctip_login_csrf"
SESSION_COOKIE_MAX_AGE = 12 * 3600  # the server ends idle sessions much sooner (settings)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(
    request: Request,
    *,
    error: str = "",
    username: str = "",
    next_url: str = "/",
    status_code: int = 200,
) -> HTMLResponse:
    prepare(request, None)
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "title": _(request, "Sign in"),
            "error": error,
            "username": username,
            "next_url": next_url,
            "csrf_token": token,
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.get("/", name="pages_home", include_in_schema=False)
def home(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return redirect("/login")
    return redirect(home_path(user))


@router.get("/login", name="pages_login", include_in_schema=False)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - query name
    return _login_page(request, next_url=safe_next(next))


@router.post("/login", include_in_schema=False)
def login(request: Request, form: FormDep) -> Response:
    next_url = safe_next(str(form.get("next") or "/"))
    username = str(form.get("username") or "").strip().lower()
    sent, kept = str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not kept or not hmac.compare_digest(sent, kept):
        return _login_page(
            request,
            error=_(request, "The form expired. Please sign in again."),
            username=username,
            next_url=next_url,
            status_code=400,
        )
    try:
        result = accounts(request).login(
            username, str(form.get("password") or ""), str(form.get("code") or "")
        )
    except AuthenticationError:
        return _login_page(
            request,
            username=username,
            next_url=next_url,
            status_code=401,
            error=_(
                request,
                "The user name, password or one-time code is wrong, or the account is "
                "locked for a while after repeated failures.",
            ),
        )
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(request, response, result.token, max_age=SESSION_COOKIE_MAX_AGE)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", name="pages_logout", include_in_schema=False)
def logout(request: Request, form: FormDep) -> Response:
    """End the session on the server whenever the browser sends its session cookie, CSRF
    token or not: a logout that only dropped the cookie left the session usable by anyone who
    had copied it. (A cross-site page cannot log a user out this way: the cookie is
    SameSite=Lax, so a cross-site POST does not carry it.)"""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts(request).logout(token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{code}", name="pages_language", include_in_schema=False)
def language(request: Request, code: str, next: str = "/") -> Response:  # noqa: A002
    """Remember the chosen interface language (a preference, not case data)."""
    response = redirect(safe_next(next))
    if code in i18n.LOCALES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=_secure(request),
            path="/",
        )
    return response
