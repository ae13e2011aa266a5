"""The batch paths of screening give what the libraries give one text at a time: TF-IDF counted
in numpy equals ``TfidfVectorizer.transform``; MinHash signatures hashed in numpy equal
datasketch's ``MinHash.update_batch``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from ctip.ads.classify import _vectoriser, fit, indicator_matrix, tfidf
from ctip.ads.cluster import signature_datasketch, signatures
from ctip.ads.pipeline import analyse
from ctip.ads.synthetic import generate

WORDS = ["job", "visa", "free", "telegram", "xxphonexx", "salary", "usd", "a", "é", "ở",
         "工作", "2000", "work_from", "Job", "JOB!", "call-now", "the"]
text = st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=60).map(" ".join)


@pytest.fixture(scope="module")
def fitted() -> TfidfVectorizer:
    ads = list(generate(300, seed=3))
    texts = [analyse(a).masked() for a in ads]
    vectoriser = _vectoriser(len(texts))
    vectoriser.fit(texts + [" ".join(WORDS)] * 3)
    return vectoriser


def _same(a, b) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(text, min_size=1, max_size=8))
def test_batch_tfidf_equals_sklearn(fitted: TfidfVectorizer, texts: list[str]) -> None:
    _same(tfidf(fitted, texts), fitted.transform(texts))


def test_batch_tfidf_on_ads_and_through_the_model() -> None:
    ads = list(generate(400, seed=11, body_sentences=(20, 30)))
    analyses = [analyse(a) for a in ads]
    texts = [a.masked() for a in analyses]
    codes = [{h.code for h in a.hits} for a in analyses]
    model = fit(texts[:300], codes[:300], [a.label or 0 for a in ads[:300]])
    _same(tfidf(model.vectoriser, texts[300:]), model.vectoriser.transform(texts[300:]))
    base = model.classifier.predict_proba(sparse.hstack(
        [model.vectoriser.transform(texts[300:]), indicator_matrix(codes[300:])],
        format="csr"))[:, 1]
    assert np.array_equal(model.predict(texts[300:], codes[300:]), base)


def test_other_vectoriser_settings_fall_back_to_sklearn() -> None:
    vectoriser = TfidfVectorizer(ngram_range=(1, 3)).fit(["a bb cc dd", "bb cc dd ee"])
    _same(tfidf(vectoriser, ["bb cc dd"]), vectoriser.transform(["bb cc dd"]))


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(text, min_size=1, max_size=6))
def test_batch_signatures_equal_datasketch(texts: list[str]) -> None:
    got = signatures(texts)
    for row, t in zip(got, texts, strict=True):
        assert np.array_equal(row, signature_datasketch(t))


def test_signatures_of_ads_equal_datasketch() -> None:
    texts = [analyse(a).template_signature_text() for a in generate(120, seed=4)]
    got = signatures(texts)
    assert all(np.array_equal(r, signature_datasketch(t)) for r, t in zip(got, texts, strict=True))
