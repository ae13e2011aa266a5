"""My account: change my password, re-enrol my authenticator app (TOTP) with a QR code.

Every signed-in user has this page, whatever their role. The service does the work and the
auditing (``services/account_changes.py``); this module only turns forms into calls and errors
into messages next to the field. The QR code is drawn by segno as inline SVG (no image request,
nothing leaves the server), with the ``otpauth://`` URI and the secret as text beside it for
apps that take them typed in.
"""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from ctip.errors import AuthenticationError, CtipError, ValidationError
from ctip.services.account_changes import MIN_PASSWORD
from ctip.web.pages.common import (
    SESSION_COOKIE,
    FormDep,
    _,
    accounts,
    check_csrf,
    error_page,
    redirect,
    require_user,
)
from ctip.web.pages.labels import N_
from ctip.web.pages.render import render

router = APIRouter()

DONE = {
    "password": N_("Your password is changed. Your other sessions have ended."),
    "totp": N_("Your authenticator app is enrolled. Codes from the old one no longer work."),
}


def qr_svg(uri: str, label: str) -> Markup:
    """The URI as a QR code, inline SVG with a text alternative (segno escapes nothing of ours:
    the URI is its data, the title is escaped here)."""
    from markupsafe import escape

    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, title=str(escape(label)))
    return Markup(svg)  # noqa: S704 - segno's own SVG; the only text in it is escaped above


def _page(request: Request, *, status_code: int = 200, **extra: Any) -> Response:
    done = request.query_params.get("done", "")
    context: dict[str, Any] = {
        "title": _(request, "My account"),
        "errors": {},
        "totp_errors": {},
        "min_password": MIN_PASSWORD,
        "flashes": [("ok", _(request, DONE[done]))] if done in DONE else [],
    }
    context.update(extra)
    return render(request, "account.html", context, status_code=status_code)


@router.get("/account", name="pages_account", include_in_schema=False)
def account(request: Request) -> Response:
    require_user(request, "account")
    return _page(request)


def _password_error(request: Request, error: ValidationError) -> str:
    text = error.message
    if "at least" in text:
        return _(request, "Use at least %(num)d characters.") % {"num": MIN_PASSWORD}
    if "user name" in text:
        return _(request, "The password must not be your user name.")
    if "same as" in text:
        return _(request, "Choose a password different from the current one.")
    return text


@router.post("/account/password", name="pages_account_password", include_in_schema=False)
def change_password(request: Request, form: FormDep) -> Response:
    user = require_user(request, "account")
    check_csrf(request, user, form)
    current = str(form.get("current_password") or "")
    new, again = str(form.get("new_password") or ""), str(form.get("new_password_again") or "")
    errors: dict[str, str] = {}
    if new != again:
        errors["new_password_again"] = _(request, "The two new passwords are not the same.")
    if not errors:
        try:
            accounts(request).change_password(
                user.principal, current, new, keep_token=request.cookies.get(SESSION_COOKIE)
            )
        except ValidationError as error:
            errors["new_password"] = _password_error(request, error)
        except AuthenticationError:
            errors["current_password"] = _(
                request,
                "The current password is wrong, or the account is locked for a while after "
                "repeated failures.",
            )
        except CtipError as error:
            return error_page(request, error)
        else:
            return redirect("/account?done=password")
    return _page(request, errors=errors, status_code=422)


@router.post("/account/totp", name="pages_account_totp", include_in_schema=False)
def start_totp(request: Request, form: FormDep) -> Response:
    """Step 1: the password again, then the new secret as a QR code (not in use yet)."""
    user = require_user(request, "account")
    check_csrf(request, user, form)
    try:
        enrolment = accounts(request).start_totp_enrolment(
            user.principal, str(form.get("password") or "")
        )
    except AuthenticationError:
        return _page(
            request,
            status_code=422,
            totp_errors={
                "password": _(
                    request,
                    "The password is wrong, or the account is locked for a while after "
                    "repeated failures.",
                )
            },
        )
    except CtipError as error:
        return error_page(request, error)
    return _enrolment_page(request, enrolment.otpauth_uri, enrolment.secret, enrolment.token)


def _enrolment_page(request: Request, uri: str, secret: str, token: str,
                    errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(
        request,
        "account_totp.html",
        {
            "title": _(request, "Enrol your authenticator app"),
            "qr": qr_svg(uri, _(request, "QR code for your authenticator app")),
            "uri": uri,
            "secret": secret,
            "token": token,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.post("/account/totp/confirm", name="pages_account_totp_confirm",
             include_in_schema=False)
def confirm_totp(request: Request, form: FormDep) -> Response:
    """Step 2: a code from the new secret makes it the one in use."""
    user = require_user(request, "account")
    check_csrf(request, user, form)
    token = str(form.get("token") or "")
    try:
        accounts(request).finish_totp_enrolment(
            user.principal, token, str(form.get("code") or ""),
            keep_token=request.cookies.get(SESSION_COOKIE),
        )
    except ValidationError as error:
        if error.column != "code":  # expired or tampered: start again
            return _page(request, status_code=422, totp_errors={
                "password": _(request, "The enrolment expired. Confirm your password to start "
                                       "again.")})
        again = accounts(request).reopen_totp_enrolment(user.principal, token)
        return _enrolment_page(
            request, again.otpauth_uri, again.secret, token, status_code=422,
            errors={"code": _(request, "The code does not match. Scan the QR code again, then "
                                       "type the six digits your app shows now.")},
        )
    except CtipError as error:
        return error_page(request, error)
    return redirect("/account?done=totp")
