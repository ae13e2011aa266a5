"""Interface translations: Babel message catalogues for the six UN languages (Arabic, Chinese,
English, French, Russian, Spanish), and formats (dates, numbers, country names) from CLDR.

The catalogues are kept as ``<locale>/LC_MESSAGES/messages.po`` (text, reviewable in a pull
request) and compiled in memory on first use with Babel's own reader and writer, so there is no
build step and no binary file in the repository. ``messages.pot`` is extracted from the templates
and page code by ``python -m ctip.web.i18n extract`` (Babel's Jinja2 extractor).

The language of a page is the user's own setting when they chose one, else the best match of the
browser's ``Accept-Language`` header, else English. Dates and numbers follow the browser's region
when it names one for that language (``en-GB``: 12/02/2026 is 12 February; ``en-US``: 2/12/26),
else the language's CLDR default; Arabic pages are laid out right to left (``text_direction``).
"""

from __future__ import annotations

import io
import re
from datetime import date
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.dates import parse_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")  # the UN's order
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
    for _, tag in _wanted(accept_language):
        if tag == "*":
            continue
        try:
            language = Locale.parse(tag, sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE


def format_locale(language: str, accept_language: str | None) -> str:
    """The CLDR locale for dates and numbers on a page in ``language``: the browser's first
    region for that language (``en-GB`` -> ``en_GB``), else the language alone."""
    for _, tag in _wanted(accept_language or ""):
        try:
            parsed = Locale.parse(tag, sep="-")
        except (ValueError, UnknownLocaleError):
            continue
        if parsed.language == language and parsed.territory:
            return str(parsed)
    return language


def text_direction(locale: str) -> str:
    """``rtl`` for a right-to-left language (Arabic), else ``ltr`` (for ``<html dir>``)."""
    try:
        order = Locale.parse(locale).character_order
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_user_date(text: str, locale: str) -> date:
    """A date as a person types it in their locale (``12/2/26`` is 12 February 2026 in en_GB,
    2 December 2026 in en_US); ISO ``2026-02-12`` is read the same everywhere. Raises
    ``ValueError`` for text that is no date."""
    text = text.strip()
    if _ISO_DATE.match(text):
        return date.fromisoformat(text)
    try:
        return parse_date(text, locale=Locale.parse(locale))
    except (IndexError, TypeError, ValueError) as error:
        raise ValueError(f"not a date: {text[:40]!r}") from error


def _wanted(accept_language: str) -> list[tuple[float, str]]:
    """The tags of an Accept-Language header, best first (ties keep the browser's order)."""
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
    return sorted(wanted)


@cache
def language_name(locale: str) -> str:
    """The language's own name ("Français"), for the language switcher."""
    name = Locale.parse(locale).get_display_name(locale)
    assert name is not None  # babel names every locale it can parse
    return name.capitalize()
