"""Users (administrators only): create, deactivate, reactivate and unlock users, set roles, and
give a user who lost their phone a new authenticator secret.

Least privilege is the service's (``services/account_changes.py``): an administrator reaches the
users of their own agency, a national administrator those of every agency; a user out of reach
is "not found". The page offers only what the administrator may do: the agency field is fixed to
their own agency unless they are a national administrator, and only grantable roles are listed.
A new user's authenticator secret is shown once, as a QR code and as text, on the page that
follows the creation; it is never shown again (the user re-enrols from "My account").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.domain.access import ROLE_ACTIONS, Action, Role, may_grant_role
from ctip.errors import CtipError, PermissionDeniedError, ValidationError
from ctip.services.account_changes import MIN_PASSWORD
from ctip.services.accounts import NewUser
from ctip.web.pages import labels
from ctip.web.pages.account import qr_svg
from ctip.web.pages.common import (
    FormDep,
    PageUser,
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
    "unlock": N_("The account is unlocked."),
    "deactivate": N_("The account is deactivated. Its sessions have ended."),
    "activate": N_("The account is active again."),
    "role": N_("The role is changed. The user's sessions have ended; it applies at the next "
               "sign-in."),
}


def _secret_text(uri: str) -> str:
    """The secret of an otpauth URI in groups of four, for typing into an app by hand."""
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _admin(request: Request) -> PageUser:
    user = require_user(request, "users")
    if not user.may(Action.USERS_MANAGE):
        raise PermissionDeniedError(
            _(request, "Only administrators manage users."),
            hint=_(request, "Ask an administrator of your agency."),
        )
    return user


def _national(user: PageUser) -> bool:
    return Action.USERS_MANAGE_ALL in ROLE_ACTIONS.get(user.principal.role, frozenset())


def _role_options(request: Request, user: PageUser) -> list[tuple[str, str]]:
    gettext = lambda m: _(request, m)  # noqa: E731
    return [
        (r.value, labels.label(labels.ROLE, r.value, gettext))
        for r in Role
        if may_grant_role(user.principal, r)
    ]


def _page(request: Request, user: PageUser, *, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    done = request.query_params.get("done", "")
    try:
        rows = accounts(request).users(user.principal)
    except CtipError as error:
        return error_page(request, error)
    return render(
        request,
        "users.html",
        {
            "title": _(request, "Users"),
            "users": rows,
            "role_options": _role_options(request, user),
            "national": _national(user),
            "values": values or {"agency": user.principal.agency},
            "errors": errors or {},
            "min_password": MIN_PASSWORD,
            "flashes": [("ok", _(request, DONE[done]))] if done in DONE else [],
        },
        status_code=status_code,
    )


@router.get("/users", name="pages_users", include_in_schema=False)
def users(request: Request) -> Response:
    return _page(request, _admin(request))


def _field_error(request: Request, error: ValidationError) -> tuple[str, str]:
    column, text = error.column or "username", error.message
    known = {
        "username": _(request, "Use 2 to 63 lower-case letters, digits, '.', '_' or '-', or "
                               "choose a name nobody has yet."),
        "role": _(request, "Choose a role from the list."),
        "agency": _(request, "Every user belongs to an agency."),
        "password": _(request, "Use at least %(num)d characters, not the user name.")
        % {"num": MIN_PASSWORD},
    }
    return column, known.get(column, text)


@router.post("/users", include_in_schema=False)
def create(request: Request, form: FormDep) -> Response:
    user = _admin(request)
    check_csrf(request, user, form)
    values = {
        "username": str(form.get("username") or "").strip().lower(),
        "role": str(form.get("role") or ""),
        "agency": str(form.get("agency") or "").strip()
        if _national(user) else user.principal.agency,
    }
    password = str(form.get("password") or "")
    try:
        new = accounts(request).add_user(
            user.principal, values["username"], password, role=values["role"],
            agency=values["agency"],
        )
    except ValidationError as error:
        column, text = _field_error(request, error)
        return _page(request, user, values=values, errors={column: text}, status_code=422)
    except CtipError as error:
        return error_page(request, error)
    return render(
        request,
        "user_created.html",
        {
            "title": _(request, "User created"),
            "new": new,
            "qr": qr_svg(new.otpauth_uri, _(request, "QR code for the new user's authenticator "
                                                    "app")),
            "secret": _secret_text(new.otpauth_uri),
        },
    )


@router.post("/users/{username}/{change}", name="pages_user_change", include_in_schema=False)
def change(request: Request, username: str, change: str, form: FormDep) -> Response:
    user = _admin(request)
    check_csrf(request, user, form)
    svc = accounts(request)
    try:
        if change == "unlock":
            svc.unlock(user.principal, username)
        elif change in ("deactivate", "activate"):
            svc.set_active(user.principal, username, change == "activate")
        elif change == "role":
            svc.set_role(user.principal, username, str(form.get("role") or ""))
        elif change == "totp":  # a lost phone: a new secret, shown to the user once
            uri = svc.reset_totp(user.principal, username)
            target = svc.principal_for(username)
            return render(request, "user_created.html", {
                "title": _(request, "Authenticator app reset"),
                "reset": True,
                "new": NewUser(target.user_id, target.username, target.role.value,
                               target.agency, uri),
                "qr": qr_svg(uri, _(request, "QR code for the user's new authenticator app")),
                "secret": _secret_text(uri),
            })
        else:
            raise PermissionDeniedError(_(request, "This change is not offered."))
    except ValidationError as error:
        if "own account" in error.message:
            error = ValidationError(
                _(request, "You cannot change the role of, or deactivate, your own account."),
                hint=_(request, "Another administrator of your agency can."),
            )
        return error_page(request, error)
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/users?done={change}")
