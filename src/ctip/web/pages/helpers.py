"""Template helpers bound to the request's language: labels for codes, dates, numbers, country
names (CLDR, through Babel), eligibility text, screening texts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from ctip.domain.countries import country
from ctip.domain.vocabulary import code_list
from ctip.web.pages import labels


def helpers(
    locale: str, gettext: Callable[[str], str], format_locale: str | None = None
) -> dict[str, Any]:
    """Functions the templates call; each translates into ``locale``. Dates and numbers follow
    ``format_locale`` (the browser's region for that language, e.g. ``en_GB``) when given."""

    def code_label(list_name: str, code: str | None) -> str:
        if not code:
            return ""
        try:
            return gettext(str(code_list(list_name).entry(code)["label"]))
        except LookupError:
            return str(code).replace("_", " ")

    locale_name = format_locale or locale
    babel_locale = Locale.parse(locale_name)  # once per page, not once per date

    def fmt_datetime(value: datetime | date | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, datetime):
            tz = value.tzinfo
            return _formatted(value, True, tz, value.tzname() if tz else None, locale_name)
        return _formatted(value, False, None, None, locale_name)

    def country_name(iso3: str | None) -> str:
        """The country's name in the page's language (CLDR territory names)."""
        if not iso3:
            return ""
        try:
            found = country(iso3)
        except LookupError:
            return iso3
        return str(babel_locale.territories.get(found.iso2) or found.name)

    def fmt_number(value: float | int | None) -> str:
        return "–" if value is None else str(format_decimal(value, locale=babel_locale))

    def eligibility_text(service: Any) -> str:
        parts = []
        if service.sexes:
            parts.append(", ".join(code_label("sex", s) for s in service.sexes))
        if service.min_age is not None or service.max_age is not None:
            lo = service.min_age if service.min_age is not None else 0
            hi = service.max_age if service.max_age is not None else "+"
            parts.append(gettext("age") + f" {lo}–{hi}")
        if not service.accepts_children:
            parts.append(gettext("adults only"))
        return "; ".join(parts) or gettext("anyone")

    return {
        "code_label": code_label,
        "fmt_datetime": fmt_datetime,
        "eligibility_text": eligibility_text,
        "country_name": country_name,
        "fmt_number": fmt_number,
        "screening_reason": lambda text: labels.screening_reason(text, gettext),
        "dimension_name": lambda code: gettext(labels.DIMENSION.get(str(code), str(code))),
        "status_label": lambda c: labels.label(labels.STATUS, c, gettext),
        "region_label": lambda c: labels.label(labels.REGION, c, gettext),
        "role_label": lambda c: labels.label(labels.ROLE, str(c), gettext),
        "referral_status_label": lambda c: labels.label(labels.REFERRAL_STATUS, c, gettext),
        "purpose_label": lambda c: labels.label(labels.PURPOSE, c, gettext),
        "referral_purpose_label": lambda c: labels.label(labels.REFERRAL_PURPOSE, c, gettext),
        "service_type_label": lambda c: labels.label(labels.SERVICE_TYPE, c, gettext),
        "identity_label": lambda c: labels.label(labels.IDENTITY_FIELD, c, gettext),
        "classification_label": lambda c: labels.label(labels.CLASSIFICATION, c, gettext),
        "confirmation_label": lambda c: labels.label(labels.CONFIRMATION, c, gettext),
    }


@functools.lru_cache(maxsize=8192)
def _formatted(
    value: datetime | date, is_datetime: bool, tz: tzinfo | None, tz_name: str | None,
    locale: str,
) -> str:
    """A date or time as CLDR writes it in ``locale`` (short date and time; a date alone in the
    medium format), kept for the dates a server shows again and again: a list page formats one
    per row, and Babel's pattern formatting was a tenth of such a page's time. The key holds
    what the text depends on besides the instant (date or time, its zone and zone name), so
    equal instants in other zones are formatted apart."""
    if is_datetime and isinstance(value, datetime):
        return str(format_datetime(value, "short", locale=Locale.parse(locale)))
    return str(format_date(value, "medium", locale=Locale.parse(locale)))


def options(
    table: dict[str, str], gettext: Callable[[str], str], codes: tuple[str, ...] | None = None
) -> list[tuple[str, str]]:
    """(code, translated label) pairs for a select or a list of check boxes."""
    return [(c, labels.label(table, c, gettext)) for c in (codes or tuple(table))]


def code_options(list_name: str, gettext: Callable[[str], str]) -> list[tuple[str, str]]:
    return [(e["code"], gettext(str(e["label"]))) for e in code_list(list_name).entries]
