"""Server-rendered pages of the web app: one FastAPI router the app factory includes.

Pages are plain HTML forms that work without JavaScript; the vendored htmx only makes the case
search update as you type. Everything is served from this package (templates, ``/static``): no
CDN, nothing fetched from elsewhere, so the pages work on a closed network.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ctip.errors import CtipError
from ctip.web.pages import (
    account,
    ads,
    agency,
    audit_page,
    auth,
    case_edit,
    case_page,
    cases,
    evidence_page,
    finflows,
    followup,
    review,
    supply,
    users,
)
from ctip.web.pages.labels import N_
from ctip.web.pages.render import STATIC_DIR, warm_templates

# in this order (/cases/new before /cases/{case_id}); render.url_for reads the same list
PAGE_MODULES = (auth, cases, case_edit, case_page, evidence_page, agency, audit_page, followup,
                finflows, ads, supply, review, account, users)
router = APIRouter()
for _module in PAGE_MODULES:
    # the routes themselves, not each module's router included: FastAPI matches an included
    # router by walking its routes, then again to handle the request, level by level, so one
    # flat list is matched once (the module routers have no prefix or dependencies to apply)
    router.routes.extend(_module.router.routes)


def render_error(request: Request, error: CtipError) -> HTMLResponse:
    """A ``CtipError`` raised outside a page's own handling, as a page in the user's language."""
    from ctip.web.pages.common import current_user, error_page, prepare

    prepare(request, current_user(request))
    return error_page(request, error)


def _wants_html(request: Request) -> bool:
    """A browser asking for a page: not the API (which keeps JSON), and HTML accepted."""
    path = request.url.path
    if path.startswith("/api") or path in ("/openapi.json", "/healthz"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _http_error_page(request: Request, status: int) -> HTMLResponse:
    """An unknown address (404), a wrong method (405) or a malformed query (422) as a page."""
    from ctip.web.pages.common import _, current_user, error_page, prepare

    prepare(request, current_user(request))
    messages = {
        404: (N_("There is no page at this address."),
              N_("Check the address, or go back to the dashboard.")),
        405: (N_("This page cannot be used that way."),
              N_("Go back to the page and use its buttons.")),
        422: (N_("Part of the address is not valid."),
              N_("Go back and try again from the page's own links.")),
    }
    message, hint = messages.get(status, (N_("Something went wrong"), N_("Try again later.")))
    error = CtipError(_(request, message), hint=_(request, hint))
    error.http_status = status  # this one error, not its class
    return error_page(request, error)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    if status >= 400 and _wants_html(request):
        return await run_in_threadpool(_http_error_page, request, status)
    return await http_exception_handler(request, exc)  # type: ignore[arg-type]


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    if _wants_html(request):
        return await run_in_threadpool(_http_error_page, request, 422)
    return await request_validation_exception_handler(request, exc)  # type: ignore[arg-type]


def static_files() -> StaticFiles:
    """The CSS and the vendored htmx, mounted by the app factory at ``/static``."""
    return StaticFiles(directory=str(STATIC_DIR))


def install(app: FastAPI) -> None:
    """Add the pages and their static files to an app (what ``create_app`` calls)."""
    app.include_router(router)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    warm_templates()  # compiled once here, not by every thread of the first requests
    if not any(getattr(r, "path", None) == "/static" for r in app.routes):
        app.mount("/static", static_files(), name="static")
