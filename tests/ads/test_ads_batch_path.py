"""The fast batch path of screening gives what the per-ad path with plain scans gives.

``ctip.ads.scan`` tries the cue and amount patterns only where a match may begin, the handle and
Telegram checks look for the words they need first, normalisation skips substitutions with
nothing to replace, the shingle CRCs are computed for a batch in numpy and ``prepare`` runs a
batch with the collector held off. ``scan.REFERENCE = True`` switches the scans back to
``pattern.finditer`` over the whole text (the implementation before the fast paths), so the
comparisons below are between the two, on synthetic ads (with characters that test the
case-insensitive patterns: dotless i, long s, Kelvin sign, capital I with dot), on the
must-not-regress obfuscation fixtures and on generated strings.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.ads import extract as ex
from ctip.ads import normalise, phones, scan
from ctip.ads.classify import fit
from ctip.ads.cluster import signature
from ctip.ads.pipeline import analyse
from ctip.ads.records import Ad
from ctip.ads.synthetic import generate
from ctip.services.ads_prepare import prepare

CASES = json.loads((Path(__file__).parent / "fixtures" / "obfuscation.json")
                   .read_text(encoding="utf-8"))["cases"]
ODD = ["ı", "ſ", "\u212a", "İ", "\t", "\u00a0", "  ", "\n", "\n\n", "(at)", " at ", "[ @ ]",
       "(dot)", " dot ", "arroba", " arobase ", " arroba ", "HTTP://", "https:", "WWW.", ".COM",
       ".ſite", ".ınfo", ".kh",
       "TG", "tg:", "Telegram", "TELE @", "电报", "飞机:", "t . me /", "T.ME/", "wechat:",
       "微信:", "vx:", "LINE ID:", "line.me/", "skype:", "chat.whatsapp.com/", "wa.me/",
       "@", "#PHONE_1234abcd#", "1", "0", "+", "$", "USD", "2,500", "１２", "٣", "๓", "²",
       "e.g.", "(", "<", "{", "\u200b", "\ufe0f", "\u20e3", "❶", "➀", "⓵", "🄁", "\u00ad"]
FRAGMENTS = st.sampled_from(ODD + ["a", "t", "r", "o", "b", "s", "e", "m", ".", "/", ":", " "])
TEXT = st.lists(FRAGMENTS | st.text(max_size=3), max_size=40).map("".join)


def _spiced(ads: list[Ad], seed: int) -> list[Ad]:
    rng = random.Random(seed)
    out = []
    for ad in ads:
        sections = dict(ad.sections)
        for name in ("body", "contact", "title"):
            words = sections.get(name, "").split(" ")
            for _ in range(rng.randint(0, 8)):
                words.insert(rng.randrange(len(words) + 1), rng.choice(ODD))
            sections[name] = " ".join(words)
        out.append(Ad(ad.source_row, sections, ad.source_ref, ad.label, ad.company_profile,
                      ad.extra))
    return out


def _fixture_ads() -> list[Ad]:
    plain = [Ad(i, {"body": c["text"]}) for i, c in enumerate(CASES)]
    mixed = [Ad(1000 + i, {"title": c["text"].upper(), "contact": c["text"],
                           "body": c["text"] + " Salary USD 2,500/month (at) 09 17 555 0101"})
             for i, c in enumerate(CASES)]
    return plain + mixed


@pytest.fixture(scope="module")
def model():
    ads = list(generate(300, seed=3))
    analyses = [analyse(a) for a in ads]
    return fit([a.masked() for a in analyses], [{h.code for h in a.hits} for a in analyses],
               [a.label or 0 for a in ads])


@pytest.fixture
def reference(monkeypatch):
    """A function running ``fn`` with the plain scans of the per-ad implementation."""
    def run(fn, *args):
        monkeypatch.setattr(scan, "REFERENCE", True)
        try:
            return fn(*args)
        finally:
            monkeypatch.setattr(scan, "REFERENCE", False)
    return run


def _per_ad(ads: list[Ad], model) -> list[tuple]:
    """One ad at a time: analysis, score from a one-row matrix, signature of one text."""
    out = []
    for ad in ads:
        a = analyse(ad)
        score = float(model.predict([a.masked()], [{h.code for h in a.hits}])[0])
        out.append((a.text, a.spans, a.extraction, a.hits, score,
                    signature(a.template_signature_text()).tobytes()))
    return out


def _batch(ads: list[Ad], model) -> list[tuple]:
    batch = prepare(ads, model)
    return [(p.analysis.text, p.analysis.spans, p.analysis.extraction, p.analysis.hits, p.score,
             p.signature) for p in batch.ads]


def _assert_same(fast: list[tuple], slow: list[tuple]) -> None:
    assert len(fast) == len(slow)
    for f, s in zip(fast, slow, strict=True):
        assert f[:4] == s[:4]  # text, spans, extraction (identifiers, salaries, terms), hits
        assert f[4] == s[4]  # the score, to the last bit
        assert f[5] == s[5]  # the MinHash signature


def test_batch_path_equals_per_ad_path_on_fixtures(model, reference) -> None:
    ads = _fixture_ads()
    _assert_same(_batch(ads, model), reference(_per_ad, ads, model))


def test_batch_path_equals_per_ad_path_on_synthetic_ads(model, reference) -> None:
    ads = list(generate(400, seed=21, body_sentences=(5, 40)))
    ads += _spiced(ads[:200], seed=2)
    fast = _batch(ads, model)
    _assert_same(fast, reference(_per_ad, ads, model))
    assert sum(len(f[3]) for f in fast) > 400  # the comparison covers indicators that fire


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(1, 25), spice=st.integers(0, 2))
def test_batch_path_equals_per_ad_path_on_generated_ads(model, seed, n, spice) -> None:
    ads = list(generate(n, seed=seed, fraud_rate=0.4, body_sentences=(1, 30)))
    if spice:
        ads = _spiced(ads, seed)
    fast = _batch(ads, model)
    scan.REFERENCE = True
    try:
        slow = _per_ad(ads, model)
    finally:
        scan.REFERENCE = False
    _assert_same(fast, slow)


@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_fast_scans_equal_plain_scans(text: str) -> None:
    folded = normalise.fold(text)
    spans = lambda ms: [m.span() for m in ms]  # noqa: E731
    assert spans(scan.finditer(ex._URL_CUE, folded, ex._url_starts(folded))) == \
        spans(ex._URL_CUE.finditer(folded))
    assert spans(ex._spelled_at(folded)) == spans(ex._SPELLED_AT.finditer(folded))
    amounts = [m.span() for m in ex.AMOUNT.finditer(text)]
    assert [m.span() for m in scan.finditer(ex.AMOUNT, text, scan.digits(text, ex._DIGIT))] \
        == amounts
    assert scan.digits(text, ex._DIGIT) == [m.start() for m in ex._DIGIT.finditer(text)]
    fast_runs = [m.span() for m in phones._candidates(text, False)]
    scan.REFERENCE = True
    try:
        assert fast_runs == [m.span() for m in phones._candidates(text, False)]
    finally:
        scan.REFERENCE = False
    assert ex._telegram_ad(text, folded) == (ex._TELEGRAM_AD.search(text) is not None)
    for _, _, cue, needs in ex._HANDLES:
        if not scan.has_words(folded, needs):
            assert cue.search(folded) is None


@settings(max_examples=300, deadline=None)
@given(text=TEXT | st.text(alphabet=st.characters(max_codepoint=127), max_size=20))
def test_skipped_substitutions_have_nothing_to_replace(text: str) -> None:
    assert normalise._odd_space(text) == (normalise._ODD_SPACE.search(text) is not None)
    if not normalise._translated().search(text):
        assert text.translate(normalise._digit_table()) == text
    if not ("  " in text or normalise._ODD_SPACE.search(text)):
        assert normalise._SPACES.search(text) is None
    if text.count("\n") < 2:
        assert normalise._LINES.search(text) is None


def test_extraction_of_fixtures_equals_plain_scans(reference) -> None:
    def run():
        out = []
        for case in CASES:
            cleaned = normalise.clean(case["text"])
            out.append(ex.extract(cleaned, {"body": (0, len(cleaned))}))
        return out
    assert run() == reference(run)


def test_reference_switch_really_changes_the_path(monkeypatch) -> None:
    """The comparisons above compare two paths, not one path with itself."""
    calls = []
    real = ex._URL_CUE

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def finditer(self, *args):
            calls.append("finditer")
            return real.finditer(*args)

        def match(self, *args):
            calls.append("match")
            return real.match(*args)

    monkeypatch.setattr(ex, "_URL_CUE", Spy())
    ex.identifiers("see www.example.com now", [], None)
    assert "finditer" not in calls
    monkeypatch.setattr(scan, "REFERENCE", True)
    calls.clear()
    ex.identifiers("see www.example.com now", [], None)
    assert calls == ["finditer"]


def _found(terms) -> list[tuple[int, int, object]]:
    return [(f.start, f.end, f.term) for f in terms]


def test_ascii_automaton_finds_what_the_whole_one_finds() -> None:
    """ASCII text is walked by an automaton of the ASCII terms only: the same terms, in the
    same order, as the automaton of every term."""
    from ctip.ads.lexicon import term_index

    index = term_index()
    texts = [normalise.joined_text(a)[0] for a in generate(300, seed=8, body_sentences=(5, 30))]
    texts += [normalise.clean(c["text"]) for c in CASES]
    texts += ["rs 500 un wa kes rib aud ba um tel ph isa hai one nol /hr /mo rm usd month",
              "Visa free! WhatsApp +63 917; salary: 2,000 USD/month. zero nine one seven"]
    folded = [normalise.fold(t) for t in texts]
    assert sum(f.isascii() for f in folded) > 100
    for f in folded:
        assert _found(index.find(f)) == _found(index.find(f, every=True))


def _ascii_texts() -> st.SearchStrategy[str]:
    from ctip.ads.lexicon import term_index

    terms = sorted(k for k, _ in term_index()._automaton.items() if k.isascii())
    pieces = st.sampled_from(terms) | st.sampled_from([" ", "", "x", "1", ".", "\n", "-", "s"])
    return st.lists(pieces, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=TEXT | _ascii_texts())
def test_ascii_automaton_on_generated_text(text: str) -> None:
    from ctip.ads.lexicon import term_index

    f = normalise.fold(text)
    assert _found(term_index().find(f)) == _found(term_index().find(f, every=True))
