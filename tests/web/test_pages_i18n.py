"""Interface translations: the six UN languages, every string translated in each, right-to-left
Arabic, CLDR dates, numbers and country names, screening texts, negotiation."""

from __future__ import annotations

import ast
import io
import re
import string
from datetime import date

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from ctip import errors
from ctip.domain import screening
from ctip.errors import Code, CtipError, WorkflowError
from ctip.web import i18n
from ctip.web.i18n.__main__ import HERE, SERVICE_MESSAGES, extract, message_calls, missing
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


def _fields(text: str) -> set[str]:
    """The ``str.format`` fields of a text (``{{`` and ``}}`` are literal braces)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("locale", sorted(UN_LANGUAGES - {"en"}))
def test_translations_keep_their_format_fields(locale: str) -> None:
    """A service message's ``{name}`` fields survive translation (the page fills them in)."""
    catalog = read_po(io.BytesIO(i18n._po_text(locale) or b""), locale=locale)
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or "{" not in message.id:
            continue
        try:
            wanted = _fields(message.id)
        except ValueError:  # not a format template (a page text with a lone brace)
            continue
        assert _fields(str(message.string)) == wanted, (locale, message.id)
        str(message.string).format(**dict.fromkeys(wanted, "x"))


CTIP_ERRORS = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, CtipError)} | {"Phrase"}


@pytest.mark.parametrize("module", SERVICE_MESSAGES)
def test_service_messages_are_templates_in_the_catalogue(module: str) -> None:
    """Every message and hint a registered service module gives a ctip error (or a Phrase) is a
    literal template in messages.pot, never an f-string or a text built at run time (which the
    pages could not translate); its ``{fields}`` are all given in ``params=``."""
    path = HERE.parent.parent / module
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {alias.asname: alias.name for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module == "ctip.errors"
               for alias in node.names if alias.asname}
    catalogued = {m.id for m in _pot() if m.id}
    problems = []
    for call, texts in message_calls(tree):
        func = call.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if aliases.get(name, name) not in CTIP_ERRORS:
            continue  # ValueError, OSError...: a programming error, not a message for people
        params = next((k.value for k in call.keywords if k.arg == "params"), None)
        given = ({k.value for k in params.keys if isinstance(k, ast.Constant)}
                 if isinstance(params, ast.Dict) else None)
        for text in texts:
            where = f"{module}:{call.lineno}"
            if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
                if not (isinstance(text, ast.Constant) and text.value is None):
                    problems.append(f"{where}: not a literal template: {ast.unparse(text)[:80]}")
                continue
            if text.value not in catalogued:
                problems.append(f"{where}: not in messages.pot: {text.value[:80]!r}")
            fields = _fields(text.value)
            if fields and given is not None and not fields <= given:
                problems.append(f"{where}: params lack {sorted(fields - given)}")
            if fields and params is None:
                problems.append(f"{where}: {sorted(fields)} without params=")
    assert not problems, "\n".join(problems)


def test_a_code_in_a_message_is_shown_as_its_label() -> None:
    """A code a message quotes keeps its English text (quoted, as before) and is shown on a page
    as its label in the reader's language; a code without a label is shown as written."""
    from ctip.web.pages.labels import code_text

    error = WorkflowError("cannot move to {target}: {why_not}",
                          params={"target": Code("status", "presumed_victim"),
                                  "why_not": Code("role", ["caseworker", "supervisor"],
                                                  quoted=False)})
    assert error.message == "cannot move to 'presumed_victim': caseworker, supervisor"
    fr, ar, zh = (i18n.translations(x).gettext for x in ("fr", "ar", "zh"))
    assert code_text(Code("status", "presumed_victim"), fr, "fr") == "« Victime présumée »"
    assert code_text(Code("role", ["caseworker", "supervisor"], quoted=False), ar, "ar") == \
        f"«{ar('Caseworker')}»، «{ar('Supervisor')}»"
    assert code_text(Code("queue", "ads.screened", text="Screened job ads"), zh, "zh") == \
        f"“{zh('Screened job ads')}”"
    assert code_text(Code("exploitation_form", "forced_labour"), fr, "fr").startswith("« Travail")
    assert code_text(Code("status", "no_such_state"), fr, "fr") == "'no_such_state'"
    assert code_text(Code("nothing", "x", quoted=False), fr, "fr") == "x"


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
