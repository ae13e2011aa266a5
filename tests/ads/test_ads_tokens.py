"""One split of each masked text serves the TF-IDF model and the MinHash shingles
(``ctip.ads.tokens``): the counts equal scikit-learn's ``transform`` of the texts, and the
signatures equal those of each ad's ``template_signature_text`` hashed on its own, on synthetic
ads, on odd ads (case rules such as the final sigma and the dotted capital I at the body's
start or end, identifiers straddling the section break, short and empty bodies) and on
generated strings; the vocabulary's reset changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.ads import tokens
from ctip.ads.classify import _vectoriser, fit, tfidf
from ctip.ads.cluster import _shingle_hashes, signature, token_signatures
from ctip.ads.pipeline import analyse
from ctip.ads.records import Ad
from ctip.ads.shingles import token_hashes
from ctip.ads.synthetic import generate

ODD = ["ΟΔΟΣ", "Σ", "ΣΑΣ.", "İstanbul", "İ", "ß", "ǅ", "ﬁ", "a", "é", "ở", "工作", "x_y", "_",
       "xxphonexx", "Job", "JOB!", "2000", "ı", "K", "\u0301", "'", "’", "\n", " ", "-", "·"]
PIECE = st.sampled_from(ODD) | st.text(max_size=4)
TEXT = st.lists(PIECE, max_size=40).map("".join)


def _same(a, b) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)


@pytest.fixture(scope="module")
def fitted():
    ads = list(generate(200, seed=5))
    texts = [analyse(a).masked() for a in ads] + [" ".join(ODD)] * 3 + ["σας οδος i̇stanbul"] * 3
    vectoriser = _vectoriser(len(texts))
    return vectoriser.fit(texts)


def _odd_ads() -> list[Ad]:
    long_body = "Work in Σ city ΟΔΟΣ " + "good pay and housing " * 12
    return [
        Ad(1, {"title": "ΟΔΟΣ", "body": long_body + "ΣΑΣ"}),
        Ad(2, {"title": "İstanbul job", "contact": "call t", "body": "me/abcdefg " + long_body}),
        Ad(3, {"contact": "wa.me/", "body": "639171234567 " + long_body}),
        Ad(4, {"title": "Σ", "body": "Σ" + long_body}),
        Ad(5, {"title": "short", "body": "tiny body"}),
        Ad(6, {"title": "no body at all, ΣΑΣ"}),
        Ad(7, {"body": long_body}),
        Ad(8, {"title": "x", "body": "_" + long_body + "_"}),
        Ad(9, {"title": "a b c", "contact": "me@site.com", "body": "ǅ" + long_body}),
        Ad(10, {"title": "ab", "body": " \n " + long_body}),
    ]


def _ads() -> list[Ad]:
    return list(generate(300, seed=9, body_sentences=(1, 40))) + _odd_ads()


def test_shared_split_equals_each_text_split_on_its_own(fitted) -> None:
    analyses = [analyse(a) for a in _ads()]
    masked = [a.masked() for a in analyses]
    toks = tokens.of_ads(masked, [a.masked("body") for a in analyses])
    _same(tfidf(fitted, masked, toks), fitted.transform(masked))
    for k, a in enumerate(analyses):
        assert toks.words(int(toks.bounds[k]), int(toks.bounds[k + 1])) == \
            tokens.WORD.findall(masked[k].lower())
        assert toks.words(int(toks.sig_lo[k]), int(toks.sig_hi[k])) == \
            tokens.WORD.findall(a.template_signature_text().lower())
    sigs = token_signatures(toks)
    for k, a in enumerate(analyses):
        assert sigs[k].tobytes() == signature(a.template_signature_text()).tobytes()
    hashes = token_hashes(toks)
    for k, a in enumerate(analyses):
        assert set(hashes[k].tolist()) == _shingle_hashes(a.template_signature_text())


def test_the_odd_ads_take_every_branch() -> None:
    """The straddling identifier (ad 2: "t" + "me/..." across the break) has the body split on
    its own; short bodies take the whole text; the others split at the break."""
    analyses = [analyse(a) for a in _odd_ads()]
    masked = [a.masked() for a in analyses]
    bodies = [a.masked("body") for a in analyses]
    toks = tokens.of_ads(masked, bodies)
    inside = [toks.bounds[k] <= toks.sig_lo[k] <= toks.sig_hi[k] <= toks.bounds[k + 1]
              for k in range(len(masked))]
    assert not all(inside)  # a body split on its own (after every text's words)
    assert any(toks.sig_lo[k] == toks.bounds[k] and toks.sig_hi[k] == toks.bounds[k + 1]
               for k in range(len(masked)))  # a short body: the whole text
    assert any(toks.sig_lo[k] > toks.bounds[k] and inside[k] for k in range(len(masked)))


@settings(max_examples=80, deadline=None)
@given(heads=st.lists(TEXT, min_size=1, max_size=5), tails=st.lists(TEXT, min_size=1,
                                                                   max_size=5),
       joint=st.sampled_from(["\n\n", " ", "\n", "", "x", "'", "\u0301"]),
       short=st.sampled_from([0, 3, 200]))
def test_generated_texts_split_alike(fitted, heads, tails, joint, short) -> None:
    n = min(len(heads), len(tails))
    bodies = tails[:n]
    masked = [h + joint + b for h, b in zip(heads[:n], bodies, strict=True)]
    toks = tokens.of_ads(masked, bodies, short=short)
    _same(tfidf(fitted, masked, toks), fitted.transform(masked))
    for k in range(n):
        sig_text = bodies[k] if len(bodies[k]) >= short else masked[k]
        assert toks.words(int(toks.sig_lo[k]), int(toks.sig_hi[k])) == \
            tokens.WORD.findall(sig_text.lower())
        assert toks.words(int(toks.bounds[k]), int(toks.bounds[k + 1])) == \
            tokens.WORD.findall(masked[k].lower())
    sigs = token_signatures(toks)
    for k in range(n):
        sig_text = bodies[k] if len(bodies[k]) >= short else masked[k]
        assert sigs[k].tobytes() == signature(sig_text).tobytes()


@settings(max_examples=300, deadline=None)
@given(text=TEXT | st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_split_equals_the_word_pattern(text: str) -> None:
    assert tokens.split(text) == tokens.WORD.findall(text.lower())


def test_vocabulary_reset_changes_nothing(fitted, monkeypatch) -> None:
    texts = [analyse(a).masked() for a in generate(60, seed=4)]
    expected = fitted.transform(texts)
    vocabulary = tokens.Vocabulary()
    monkeypatch.setattr(tokens.Vocabulary, "LIMIT", 50)
    first = tokens.of_ads(texts, texts, vocabulary=vocabulary)
    _same(tfidf(fitted, texts, first), expected)
    second = tokens.of_ads(texts[::-1], texts[::-1], vocabulary=vocabulary)  # after a reset
    assert second.table is not first.table
    _same(tfidf(fitted, texts[::-1], second), fitted.transform(texts[::-1]))
    assert np.array_equal(token_signatures(second)[::-1], token_signatures(first))


def test_scores_from_shared_split_equal_scores_from_texts() -> None:
    ads = list(generate(300, seed=12, body_sentences=(5, 30)))
    analyses = [analyse(a) for a in ads]
    masked = [a.masked() for a in analyses]
    codes = [{h.code for h in a.hits} for a in analyses]
    model = fit(masked[:200], codes[:200], [a.label or 0 for a in ads[:200]])
    toks = tokens.of_ads(masked[200:], [a.masked("body") for a in analyses[200:]])
    shared = model.predict(masked[200:], codes[200:], toks)
    own = model.classifier.predict_proba(model.features(masked[200:], codes[200:]))[:, 1]
    assert np.array_equal(shared, own)
    _same(tfidf(model.vectoriser, masked[200:], toks),
          model.vectoriser.transform(masked[200:]))
