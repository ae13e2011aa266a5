"""Interface translations: Babel message catalogues for English, French and Spanish.

The catalogues are kept as ``<locale>/LC_MESSAGES/messages.po`` (text, reviewable in a pull
request) and compiled in memory on first use with Babel's own reader and writer, so there is no
build step and no binary file in the repository. ``messages.pot`` is extracted from the templates
and page code by ``python -m ctip.web.i18n extract`` (Babel's Jinja2 extractor).

The language of a page is the user's own setting when they chose one, else the best match of the
browser's ``Accept-Language`` header, else English.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES: tuple[str, ...] = ("en", "fr", "es")
DEFAULT_LOCALE = "en"
DOMAIN = "messages"


def _po_text(locale: str) -> bytes | None:
    path = resources.files(__name__).joinpath(f"{locale}/LC_MESSAGES/{DOMAIN}.po")
    return path.read_bytes() if path.is_file() else None


@cache
def translations(locale: str) -> Translations:
    """Compiled translations for one of ``LOCALES`` (English: the identity translation)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    data = _po_text(locale)
    if data is None:
        return Translations()
    catalog = read_po(io.BytesIO(data), locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """Pick the page language: the user's setting, else Accept-Language, else English."""
    if preferred in LOCALES:
        return preferred
    if not accept_language:
        return DEFAULT_LOCALE
    wanted: list[tuple[float, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality <= 0:
            continue
        # stable: equal qualities keep the browser's order
        wanted.append((-quality + position * 1e-6, tag.strip().replace("_", "-")))
    for _, tag in sorted(wanted):
        if tag == "*":
            continue
        try:
            language = Locale.parse(tag, sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE


@cache
def language_name(locale: str) -> str:
    """The language's own name ("Français"), for the language switcher."""
    name = Locale.parse(locale).get_display_name(locale)
    assert name is not None  # babel names every locale it can parse
    return name.capitalize()
