"""Must-not-regress: every obfuscation trick in fixtures/obfuscation.json is read as intended,
and the look-alikes (dates, salaries, prose with number words) are not read as phones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctip.ads.extract import extract
from ctip.ads.normalise import clean

CASES = json.loads((Path(__file__).parent / "fixtures" / "obfuscation.json")
                   .read_text(encoding="utf-8"))["cases"]


def _found(text: str):
    cleaned = clean(text)
    return cleaned, extract(cleaned, {"body": (0, len(cleaned))}).identifiers


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_trick_is_read(case) -> None:
    text, found = _found(case["text"])
    pairs = [(i.kind, i.value) for i in found]
    for kind, value in case["expect"]:
        assert (kind, value) in pairs, f"{case['id']}: wanted {kind} {value}, got {pairs}"
    for kind in case.get("absent_kinds", []):
        assert kind not in {k for k, _ in pairs}, f"{case['id']}: unexpected {pairs}"
    for ident in found:  # the span covers the text as written, inside the cleaned text
        assert 0 <= ident.start < ident.end <= len(text)
    if case.get("obfuscated"):
        phone = next(i for i in found if i.kind == "phone")
        assert phone.obfuscated, f"{case['id']}: an obscured number should be marked"
    if "app" in case:
        assert any(i.app == case["app"] for i in found)


def test_the_fixture_set_covers_many_languages_and_tricks() -> None:
    ids = {c["id"] for c in CASES}
    assert len(CASES) >= 40
    for language in ("english", "spanish", "french", "indonesian", "tagalog", "vietnamese",
                     "thai", "chinese", "russian"):
        assert f"spelled-{language}" in ids
