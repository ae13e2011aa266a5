"""The web application factory: ``create_app(settings) -> FastAPI``.

Nothing is built at import time: the settings, the engine (with migrations) and the keys are
made when ``create_app`` is called, so tests and servers choose their own. The app holds:

- ``app.state.settings``, ``app.state.casework`` (services.casework.Casework),
  ``app.state.accounts`` (services.accounts.Accounts);
- the REST API under ``/api`` (web/api) with its schema at ``/openapi.json`` (no Swagger page:
  it would load assets from a CDN);
- the server-rendered pages, if present: the package ``ctip.web.pages`` exposes ``install(app)``
  (routes, ``/static``) and may expose ``render_error(request, error) -> Response``;
- one exception handler for ``CtipError``: JSON ``{error, message, hint}`` with the error's
  ``http_status`` for the API, or ``app.state.render_error(request, error)`` for pages;
- security headers on every answer, and ``Cache-Control: no-store`` on everything but static files
  (``SecurityHeaders``, plain ASGI middleware).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ctip.errors import CtipError
from ctip.services.accounts import Accounts
from ctip.services.casework import Casework
from ctip.settings import Settings
from ctip.web import api
from ctip.web.security import SECURITY_HEADERS

STATIC_PREFIX = "/static"
TIMERS_EVERY_SECONDS = 900.0
log = logging.getLogger("ctip.web")


async def _run_timers(casework: Casework, every: float) -> None:
    """Turn passed NRM deadlines into review tasks, now and then every ``every`` seconds (I6)."""
    while True:
        try:
            created = await run_in_threadpool(casework.run_timers)
            if created:
                log.info("NRM timers: %d review task(s) created", created)
        except Exception:  # keep serving; the message names no case or person
            log.exception("NRM timer run failed")
        await asyncio.sleep(every)


def create_app(
    settings: Settings | None = None,
    *,
    casework: Casework | None = None,
    accounts: Accounts | None = None,
    timers_every: float | None = TIMERS_EVERY_SECONDS,
) -> FastAPI:
    """Build the app for ``settings`` (from the environment when None, at call time).

    While the app runs, NRM timers are checked every ``timers_every`` seconds (None: never).
    """
    settings = settings or Settings()
    casework = casework or Casework.open(settings)
    accounts = accounts or Accounts.from_settings(settings, casework.engine, casework.sealer,
                                                  casework.audit)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(casework.open_pool)
        await run_in_threadpool(casework.warm_up)
        task = asyncio.create_task(_run_timers(casework, timers_every)) if timers_every else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        lifespan=lifespan,
        title="ctip",
        summary="Case management for a National Referral Mechanism, and national trafficking statistics.",  # noqa: E501
        version="0.1.0",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.casework = casework
    app.state.accounts = accounts

    @app.exception_handler(CtipError)
    async def _ctip_error(request: Request, error: CtipError) -> Response:
        render = getattr(request.app.state, "render_error", None)
        if render is not None and not request.url.path.startswith("/api"):
            # the page looks the user up in the database: not on the event loop
            return await run_in_threadpool(render, request, error)
        return JSONResponse(
            {"error": type(error).__name__, "message": error.message, "hint": error.hint},
            status_code=error.http_status,
            headers={"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None,
        )

    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(api.router)
    _mount_pages(app)
    return app


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every answer that does not set them itself (static files keep
    their own caching). Plain ASGI rather than ``@app.middleware("http")``: Starlette's
    ``BaseHTTPMiddleware`` runs each request through an extra task and stream, a measurable
    share of a small page's time."""

    _RAW = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                for key, value in self._RAW:
                    if key not in present and not (static and key == b"cache-control"):
                        headers.append((key, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _mount_pages(app: FastAPI) -> None:
    """Add the server-rendered pages when the pages package is installed (owned by the UI work)."""
    if importlib.util.find_spec("ctip.web.pages") is None:
        return
    pages = importlib.import_module("ctip.web.pages")
    install = getattr(pages, "install", None)
    if install is not None:
        install(app)
    render_error = getattr(pages, "render_error", None)
    if render_error is not None:
        app.state.render_error = render_error
