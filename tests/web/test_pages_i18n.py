"""Interface translations: catalogues load, every string is translated, negotiation works."""

from __future__ import annotations

import io

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from ctip.web import i18n
from ctip.web.i18n.__main__ import extract


@pytest.mark.parametrize("locale", ["fr", "es"])
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
    assert i18n.translations("fr").gettext("Sign in") != "Sign in"
    assert i18n.translations("es").gettext("Sign in") != "Sign in"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"


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
