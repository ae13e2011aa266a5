"""Interface translations: the six UN languages, every string translated in each, right-to-left
Arabic, CLDR dates, numbers and country names, screening texts, negotiation."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from ctip.domain import screening
from ctip.web import i18n
from ctip.web.i18n.__main__ import HERE, extract, missing
from ctip.web.pages import labels
from ctip.web.pages.helpers import helpers

UN_LANGUAGES = {"ar", "zh", "en", "fr", "ru", "es"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_the_six_un_languages_are_offered() -> None:
    assert set(i18n.LOCALES) == UN_LANGUAGES


def _pot() -> Catalog:
    with open(HERE / "messages.pot", "rb") as fh:
        return read_po(fh)


def test_messages_pot_is_what_the_code_asks_for() -> None:
    """Re-extraction would change nothing: no string in the code is missing from the .pot."""
    wanted = {m.id for m in extract() if m.id}
    have = {m.id for m in _pot() if m.id}
    assert not wanted - have, f"run `python -m ctip.web.i18n extract`: {sorted(wanted - have)[:10]}"


@pytest.mark.parametrize("locale", sorted(UN_LANGUAGES))
def test_every_msgid_has_a_translation_in_every_language(locale: str) -> None:
    """Every msgid of messages.pot has a non-empty, non-fuzzy msgstr (each plural form)."""
    gaps = missing(locale)
    assert not gaps, f"{len(gaps)} untranslated in {locale}: {gaps[:10]}"


@pytest.mark.parametrize("locale", sorted(UN_LANGUAGES - {"en"}))
def test_translations_keep_their_placeholders(locale: str) -> None:
    catalog = read_po(io.BytesIO(i18n._po_text(locale) or b""), locale=locale)
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[1]
        wanted = set(PLACEHOLDER.findall(source))
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert wanted == set(PLACEHOLDER.findall(" ".join(forms))), (locale, message.id)
        for form in forms:  # each form formats with the values the page passes
            form % dict.fromkeys(wanted, 1)


@pytest.mark.parametrize("locale", ["fr", "es", "ar", "zh", "ru"])
def test_every_interface_string_is_translated(locale: str) -> None:
    """Extract the strings from templates and page code now; the catalogue must have each."""
    wanted = {m.id for m in extract() if m.id}
    data = i18n._po_text(locale)
    assert data is not None, f"no catalogue for {locale}"
    catalog = read_po(io.BytesIO(data), locale=locale)

    def translated(mid) -> bool:
        message = catalog.get(mid)
        if message is None or message.fuzzy:
            return False
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(forms)  # every plural form of the language, not just the first

    missing = sorted(str(mid) for mid in wanted if not translated(mid))
    assert not missing, f"{len(missing)} untranslated in {locale}: {missing[:10]}"


def test_plural_forms_follow_the_language() -> None:
    fr = i18n.translations("fr")
    assert (
        fr.ngettext("%(num)d case shown", "%(num)d cases shown", 0) % {"num": 0}
        == "0 dossier affiché"
    )
    assert (
        fr.ngettext("%(num)d case shown", "%(num)d cases shown", 7) % {"num": 7}
        == "7 dossiers affichés"
    )
    es = i18n.translations("es")
    assert (
        es.ngettext("%(num)d case shown", "%(num)d cases shown", 0) % {"num": 0}
        == "0 casos mostrados"
    )


def test_translations_differ_from_english() -> None:
    for locale in UN_LANGUAGES - {"en"}:
        assert i18n.translations(locale).gettext("Sign in") != "Sign in", locale
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert i18n.translations("ru").ngettext("%(num)d case shown", "%(num)d cases shown", 3) % {
        "num": 3} == "3 дела показано"
    assert i18n.translations("ar").ngettext("%(num)d service", "%(num)d services", 2) == "خدمتان"


def test_arabic_is_right_to_left() -> None:
    assert i18n.text_direction("ar") == "rtl"
    assert {i18n.text_direction(x) for x in UN_LANGUAGES - {"ar"}} == {"ltr"}


@pytest.mark.parametrize(
    ("header", "language", "typed", "expected"),
    [
        ("en-GB,en;q=0.9", "en", "12/2/26", date(2026, 2, 12)),
        ("en-US,en;q=0.9", "en", "12/2/26", date(2026, 12, 2)),
        ("fr-FR", "fr", "12/02/2026", date(2026, 2, 12)),
        ("ru-RU", "ru", "12.02.2026", date(2026, 2, 12)),
        ("zh-CN", "zh", "2026/2/12", date(2026, 2, 12)),
        (None, "en", "2026-02-12", date(2026, 2, 12)),  # ISO everywhere
    ],
)
def test_dates_are_read_in_the_users_locale(header, language, typed, expected) -> None:  # type: ignore[no-untyped-def]
    assert i18n.parse_user_date(typed, i18n.format_locale(language, header)) == expected


def test_a_non_date_is_refused() -> None:
    with pytest.raises(ValueError):
        i18n.parse_user_date("next tuesday", "en_GB")


def test_dates_numbers_and_country_names_follow_the_locale() -> None:
    gb = helpers("en", i18n.translations("en").gettext, i18n.format_locale("en", "en-GB"))
    us = helpers("en", i18n.translations("en").gettext, i18n.format_locale("en", "en-US"))
    assert gb["fmt_datetime"](date(2026, 2, 12)) == "12 Feb 2026"
    assert us["fmt_datetime"](date(2026, 2, 12)) == "Feb 12, 2026"
    fr = helpers("fr", i18n.translations("fr").gettext)
    assert fr["fmt_number"](1263.5) == "1\u202f263,5"
    assert fr["country_name"]("CIV") == "Côte d’Ivoire"
    assert helpers("zh", i18n.translations("zh").gettext)["country_name"]("CIV") == "科特迪瓦"
    assert helpers("ar", i18n.translations("ar").gettext)["country_name"]("DEU") == "ألمانيا"
    assert helpers("ru", i18n.translations("ru").gettext)["country_name"]("XXX") == "XXX"


OBSERVATION_SETS = [
    {},
    {"DR-01": "yes", "DR-02": "yes", "EX-01": "yes", "EX-02": "yes", "CD-01": "yes",
     "CD-02": "yes"},
    {"EX-01": "yes", "EX-02": "yes"},
    {"DR-01": "yes", "DR-02": "yes", "EX-01": "yes", "EX-02": "yes"},
    {"DR-02": "yes"},
    {"CD-01": "yes"},
]


@pytest.mark.parametrize("profile", screening.PROFILES)
@pytest.mark.parametrize("observations", OBSERVATION_SETS)
@pytest.mark.parametrize("locale", ["fr", "ar", "zh", "ru", "es"])
def test_every_screening_reason_is_translated(profile, observations, locale) -> None:  # type: ignore[no-untyped-def]
    known = {i.id for i in screening.indicators(profile)}
    result = screening.screen({k: v for k, v in observations.items() if k in known}, profile)
    gettext = i18n.translations(locale).gettext
    for reason in result.reasons:
        shown = labels.screening_reason(reason, gettext)
        assert shown != reason, (locale, reason)  # a pattern matched and it was translated
    for indicator in screening.indicators(profile):
        assert gettext(indicator.text) != indicator.text, (locale, indicator.id)
    for code in screening.DIMENSIONS:
        assert gettext(labels.DIMENSION[code]) != labels.DIMENSION[code]


@pytest.mark.parametrize(
    ("header", "preferred", "expected"),
    [
        (None, None, "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", None, "fr"),
        ("de-DE,de;q=0.9,es;q=0.5", None, "es"),
        ("en;q=0.2,fr;q=0.8", None, "fr"),
        ("fr;q=0", None, "en"),
        ("es", "fr", "fr"),
        ("es", "xx", "es"),
        ("*", None, "en"),
    ],
)
def test_negotiate(header: str | None, preferred: str | None, expected: str) -> None:
    assert i18n.negotiate(header, preferred) == expected


@given(st.text(max_size=200))
def test_negotiate_never_fails_on_any_header(header: str) -> None:
    assert i18n.negotiate(header) in i18n.LOCALES
