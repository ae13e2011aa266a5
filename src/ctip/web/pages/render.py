"""Rendering server-side pages: one Jinja2 environment, translated per request.

Why one environment with context-aware ``gettext``: the environment (and its template cache) is
shared by every request, while the language differs per request. Jinja2's "new style" gettext
calls the installed function with the template context, so each render picks up the request's
``translations`` without any global state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from ctip.web import i18n

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LANG_COOKIE = "ctip_lang"


@pass_context
def _gettext(context: Context, message: str) -> str:
    return str(context["translations"].gettext(message))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return str(context["translations"].ngettext(singular, plural, n))


# (catalogue, message, autoescape) -> the text a template shows for ``_(message)``
_TEXTS: dict[tuple[object, str, bool], str] = {}
_TEXTS_MAX = 50_000  # messages x languages stay far below; a bound all the same


@pass_context
def _template_gettext(context: Context, message: str, /, **variables: Any) -> str:
    """``_()`` and ``gettext()`` in templates: Jinja2's new-style gettext (the translated text
    is a %-format, made ``Markup`` when autoescaping, so the values are escaped), in one call.

    Why not Jinja2's own wrappers: ``_`` resolves ``gettext``, which calls the installed
    function, each through ``Context.call``, then formats with ``%`` even without values; a
    list page calls it a thousand times (two labels per cell), and that was a third of its
    rendering. The text without values depends only on the catalogue and the message, so it is
    kept once made."""
    translations = context["translations"]
    autoescape = bool(context.eval_ctx.autoescape)
    if variables:
        return _formatted(str(translations.gettext(message)), autoescape, variables)
    key = (translations, message, autoescape)
    found = _TEXTS.get(key)
    if found is None:
        found = _formatted(str(translations.gettext(message)), autoescape, {})
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[key] = found
    return found


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, n: int, /, **variables: Any
) -> str:
    """``ngettext()`` in templates: Jinja2's new-style ngettext (``num`` is the count), in one
    call."""
    variables.setdefault("num", n)
    text = str(context["translations"].ngettext(singular, plural, n))
    return _formatted(text, bool(context.eval_ctx.autoescape), variables)


def _formatted(text: str, autoescape: bool, variables: dict[str, Any]) -> str:
    """What Jinja2's new-style gettext does with a translated text: the catalogue's text is
    trusted markup when autoescaping (so ``%`` escapes the values put into it)."""
    if autoescape:  # the catalogues' texts are trusted, as Jinja2 trusts them
        return Markup(text) % variables  # noqa: S704
    return text % variables


_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    # the templates ship with the package and do not change under a running server: no
    # file-system check of every template (and of the base it extends) on every render
    auto_reload=False,
)
templates = Jinja2Templates(env=_env)
templates.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
# the same behaviour as the new-style callables just installed, without their layers of calls
templates.env.globals.update(gettext=_template_gettext, ngettext=_template_ngettext,
                             _=_template_gettext)
templates.env.policies["ext.i18n.trimmed"] = True


def locale_of(request: Request, preferred: str | None = None) -> str:
    """The user's setting, else the language cookie, else Accept-Language, else English."""
    chosen = preferred or request.cookies.get(LANG_COOKIE)
    return i18n.negotiate(request.headers.get("accept-language"), chosen)


def gettext_for(request: Request) -> Callable[[str], str]:
    """``_`` for page code (messages built in Python, e.g. flash texts)."""
    return i18n.translations(getattr(request.state, "locale", None) or locale_of(request)).gettext


def _static_url(name: str) -> str:
    return f"/static/{name}"


_ROUTE_PATHS: dict[str, str] = {}


def _route_paths() -> dict[str, str]:
    """Page route name -> path template, read once from our own router.

    Why not Starlette's ``url_path_for``: it tries every route of the app in turn (about 1 ms a
    call with the API mounted), and a list page links every row, so it cost half the render time.
    """
    if not _ROUTE_PATHS:
        from ctip.web.pages import PAGE_MODULES  # every page module, at the site root

        for module in PAGE_MODULES:
            for route in module.router.routes:
                name, path = getattr(route, "name", None), getattr(route, "path", None)
                if name and path:
                    _ROUTE_PATHS.setdefault(name, path)
    return _ROUTE_PATHS


def _url_for(name: str, /, **path_params: object) -> str:
    """A site-relative path (works behind a reverse proxy on another host name or scheme)."""
    template = _route_paths()[name]
    return template.format(**{k: quote(str(v), safe="") for k, v in path_params.items()})


templates.env.globals["static_url"] = _static_url
templates.env.globals["url_for"] = _url_for


def warm_templates() -> None:
    """Compile every template once, before the first request.

    Jinja compiles a template on first use and caches it; under load, every thread that meets a
    template before the first compile has finished compiles it again (the cache has no lock), so
    a server's first seconds under 50 users were spent compiling the same templates dozens of
    times."""
    for name in _env.list_templates(filter_func=lambda n: n.endswith(".html")):
        _env.get_template(name)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    locale = getattr(request.state, "locale", None) or locale_of(request)
    ctx: dict[str, Any] = {
        "locale": locale,
        "text_direction": i18n.text_direction(locale),
        "translations": i18n.translations(locale),
        "languages": [(code, i18n.language_name(code)) for code in i18n.LOCALES],
        "principal": None,
        "csrf_token": "",
        "nav": [],
        "section": "",
        "flashes": [],
        "title": "",
    }
    ctx.update(getattr(request.state, "page_context", {}) or {})
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    # pages show case data: never cache them, never let them be framed
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
