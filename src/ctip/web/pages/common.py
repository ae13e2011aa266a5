"""What every page route needs: the signed-in user, CSRF, the page context and error pages.

Sessions, CSRF tokens and lockout belong to ``services.accounts`` and ``web.security``; this module
only adapts them to server-rendered pages: an anonymous visitor is sent to the sign-in page
(303), a form without the session's CSRF token is refused (403), and a ``CtipError`` becomes a
page in the user's language with the error's status code, never a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from ctip.domain.access import ROLE_ACTIONS, Action, Principal, Role
from ctip.domain.ads_queue import ADS_QUEUE
from ctip.domain.linkage_queue import LINKAGE_QUEUE  # noqa: F401 - registers the queue
from ctip.domain.review import QUEUES
from ctip.domain.supply import SUPPLY_QUEUE
from ctip.errors import (
    AuthenticationError,
    Code,
    CtipError,
    PermissionDeniedError,
    Phrase,
    ValidationError,
)
from ctip.services.accounts import Accounts
from ctip.services.casework import Casework
from ctip.web import i18n
from ctip.web.pages.helpers import helpers
from ctip.web.pages.labels import N_, code_text
from ctip.web.pages.render import locale_of, render
from ctip.web.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_ok


@dataclass(frozen=True)
class PageUser:
    principal: Principal
    csrf_token: str

    def may(self, action: Action) -> bool:
        return action in ROLE_ACTIONS.get(self.principal.role, frozenset())


async def _read_form(request: Request) -> FormData:
    return await request.form()


# A posted form, read on the event loop before the handler runs. Page handlers are plain ``def``
# so FastAPI runs them in its thread pool: their session lookup, database work and argon2 checks
# must never run on the event loop, where they would stall every other request of the worker.
FormDep = Annotated[FormData, Depends(_read_form)]


def casework(request: Request) -> Casework:
    return cast(Casework, request.app.state.casework)


def accounts(request: Request) -> Accounts:
    return cast(Accounts, request.app.state.accounts)


def home_path(user: PageUser) -> str:
    """Where a signed-in user lands: the first page of their menu, work before reference (an
    investigator lands on a review queue, not on case pages their role cannot open)."""
    paths = [path for _key, path, _label in _nav(user, lambda text: text)]
    work = [p for p in paths if p != "/directory"]
    return (work or paths or ["/directory"])[0]


def _nav(user: PageUser, gettext: Any) -> list[tuple[str, str, str]]:
    items = []
    if user.may(Action.DASHBOARD_READ):
        items.append(("dashboard", "/dashboard", gettext("Dashboard")))
    if user.may(Action.CASE_LIST):
        items.append(("cases", "/cases", gettext("Cases")))
    if user.may(Action.REFERRAL_RESPOND):
        items.append(("referrals", "/referrals", gettext("Referral inbox")))
    if user.may(Action.CASE_REFER):
        items.append(("referrals_sent", "/referrals/sent", gettext("Sent referrals")))
    if user.may(Action.DIRECTORY_READ):
        items.append(("services", "/directory", gettext("Service directory")))
    if user.may(Action.FOLLOWUP_READ):
        items.append(("followup", "/followup", gettext("Follow-up of commitments")))
    if user.may(Action.AUDIT_READ):
        items.append(("audit", "/audit-log", gettext("Audit log")))
    if user.may(Action.EMERGENCY_REVIEW):
        items.append(("emergency", "/emergency/reviews", gettext("Emergency access reviews")))
    if user.principal.role in (Role.SUPERVISOR, Role.INVESTIGATOR):
        items.append(("finflows", "/review/finflows.alerts", gettext("Financial-flow alerts")))
    if user.principal.role in ADS_QUEUE.readers:
        items.append(("ads", "/ads", gettext("Screened job ads")))
    if user.principal.role in SUPPLY_QUEUE.readers:
        items.append(("supply", "/supply", gettext("Supply-chain due diligence")))
    if user.may(Action.USERS_MANAGE):
        items.append(("users", "/users", gettext("Users")))
    if any(user.principal.role in kind.readers for kind in QUEUES.values()):
        items.append(("review", "/review", gettext("Review queues")))
    return items


def prepare(request: Request, user: PageUser | None, section: str = "") -> None:
    """Put language, helpers, user and navigation on the request for ``render``."""
    locale = locale_of(request)
    request.state.locale = locale
    gettext = i18n.translations(locale).gettext
    fmt = i18n.format_locale(locale, request.headers.get("accept-language"))
    request.state.format_locale = fmt
    ctx: dict[str, Any] = helpers(locale, gettext, fmt)
    ctx["section"] = section
    if user is not None:
        ctx.update(principal=user.principal, csrf_token=user.csrf_token, nav=_nav(user, gettext))
    request.state.page_context = ctx


def _(request: Request, message: str) -> str:
    return str(
        i18n.translations(getattr(request.state, "locale", None) or locale_of(request)).gettext(
            message
        )
    )


def current_user(request: Request) -> PageUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        info = accounts(request).session(token)
    except AuthenticationError:
        return None
    return PageUser(info.principal, info.csrf_token)


def require_user(request: Request, section: str = "") -> PageUser:
    """The signed-in user, or a redirect to the sign-in page that comes back here afterwards."""
    user = current_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(status_code=303, headers={"Location": f"/login?next={quote(target)}"})
    prepare(request, user, section)
    return user


def check_csrf(request: Request, user: PageUser, form: Any) -> None:
    """Synchroniser-token check for every state-changing form post (and htmx requests)."""
    sent = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or "")
    if not csrf_ok(sent, user.csrf_token):
        # a CtipError: the app renders it as a page in the user's language (render_error)
        raise PermissionDeniedError(
            _(request, "This form has expired or did not come from this site."),
            hint=_(request, "Reload the page and try again."),
        )


def localised(request: Request, error: CtipError) -> tuple[str, str]:
    """The error's message and hint in the page's language: their templates as the catalogue
    translates them, filled with the error's values (English where the catalogue has none)."""
    locale = getattr(request.state, "locale", None) or locale_of(request)
    gettext = i18n.translations(locale).gettext

    def tr(template: str | None, params: dict[str, object], fallback: str | None) -> str:
        if not template:
            return fallback or ""
        text = _(request, template)
        # a value that is itself a text (a guard's reason, a Phrase) is translated too, and a
        # code (a status, a role, a queue) is shown as its label in the page's language
        values = {k: tr(v.template, v.params, str(v)) if isinstance(v, Phrase)
                  else code_text(v, gettext, locale) if isinstance(v, Code) else v
                  for k, v in params.items()}
        try:
            return text.format(**values) if values else text
        except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
            return fallback or ""

    message = tr(error.template, error.params, error.message)
    if isinstance(error, ValidationError):
        if error.value is not None:
            message += f" ({str(error.value)[:80]!r})"
        if error.allowed:
            message += f" {_(request, 'Allowed:')} {error.allowed}"
    return message, tr(error.hint_template, error.params, error.hint)


def error_page(request: Request, error: CtipError) -> HTMLResponse:
    headings = {
        401: N_("Please sign in"),
        403: N_("Not allowed"),
        404: N_("Not found"),
        409: N_("Someone else changed this first"),
        422: N_("Please check what you entered"),
    }
    fallback = N_("Something went wrong")
    heading = _(request, headings.get(error.http_status, fallback))
    # on a case that is missing or not visible (the same answer), offer break-glass access
    parts = request.url.path.split("/")
    context = getattr(request.state, "page_context", None) or {}
    principal = context.get("principal")
    may_break_glass = principal is not None and Action.EMERGENCY_ACCESS in ROLE_ACTIONS.get(
        principal.role, frozenset()
    )
    on_case = error.http_status == 404 and len(parts) > 2 and parts[1] == "cases"
    emergency = parts[2] if on_case and may_break_glass else ""
    message, hint = localised(request, error)  # in the user's language where the catalogue has it
    return render(
        request,
        "error.html",
        {
            "title": heading,
            "heading": heading,
            # a service message the catalogue knows is shown in the user's language
            "message": message,
            "hint": hint,
            "emergency_case_id": emergency,
        },
        status_code=error.http_status,
    )


def redirect(url: str) -> RedirectResponse:
    """Post/redirect/get: a reload never repeats the action."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
