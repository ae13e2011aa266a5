"""Server-rendered pages of the web app: one FastAPI router the app factory includes.

Pages are plain HTML forms that work without JavaScript; the vendored htmx only makes the case
search update as you type. Everything is served from this package (templates, ``/static``): no
CDN, nothing fetched from elsewhere, so the pages work on a closed network.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ctip.errors import CtipError
from ctip.web.pages import (
    account,
    ads,
    agency,
    audit_page,
    auth,
    case_page,
    cases,
    evidence_page,
    finflows,
    followup,
    supply,
    users,
)
from ctip.web.pages.render import STATIC_DIR, warm_templates

# in this order (/cases/new before /cases/{case_id}); render.url_for reads the same list
PAGE_MODULES = (auth, cases, case_page, evidence_page, agency, audit_page, followup, finflows,
                ads, supply, account, users)
router = APIRouter()
for _module in PAGE_MODULES:
    router.include_router(_module.router)


def render_error(request: Request, error: CtipError) -> HTMLResponse:
    """A ``CtipError`` raised outside a page's own handling, as a page in the user's language."""
    from ctip.web.pages.common import current_user, error_page, prepare

    prepare(request, current_user(request))
    return error_page(request, error)


def static_files() -> StaticFiles:
    """The CSS and the vendored htmx, mounted by the app factory at ``/static``."""
    return StaticFiles(directory=str(STATIC_DIR))


def install(app: FastAPI) -> None:
    """Add the pages and their static files to an app (what ``create_app`` calls)."""
    app.include_router(router)
    warm_templates()  # compiled once here, not by every thread of the first requests
    if not any(getattr(r, "path", None) == "/static" for r in app.routes):
        app.mount("/static", static_files(), name="static")
