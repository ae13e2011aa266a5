"""The batch paths of screening give what the libraries give one text at a time: TF-IDF counted
in numpy equals ``TfidfVectorizer.transform``; MinHash signatures hashed in numpy equal
datasketch's ``MinHash.update_batch``; banded near-duplicate pairs equal ``MinHashLSH``'s."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from ctip.ads.classify import _vectoriser, fit, indicator_matrix, tfidf
from ctip.ads.cluster import (
    NUM_PERM,
    SCHEME,
    Posting,
    _permutations,
    near_duplicates,
    signature_datasketch,
    signatures,
)
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


def _near_duplicates_datasketch(sigs: list[np.ndarray | None],
                                threshold: float) -> set[tuple[int, int]]:
    """The one-ad-at-a-time reference: query each ad against the ads before it, then insert."""
    perms = _permutations(NUM_PERM)
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    pairs = set()
    for i, sig in enumerate(sigs):
        if sig is None:
            continue
        m = MinHash(num_perm=NUM_PERM, hashvalues=sig, permutations=perms, scheme=SCHEME)
        for j in lsh.query(m):
            if float(np.mean(sigs[j] == sig)) >= threshold:
                pairs.add((j, i))
        lsh.insert(i, m, check_duplication=False)
    return pairs


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 120), changes=st.integers(0, 40),
       threshold=st.sampled_from([0.5, 0.8, 0.9]))
def test_banded_near_duplicates_equal_minhash_lsh(seed: int, n: int, changes: int,
                                                  threshold: float) -> None:
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 2**32, (max(1, n // 6), NUM_PERM), dtype=np.uint32)
    sigs: list[np.ndarray | None] = []
    for i in range(n):
        sig = bases[rng.integers(0, len(bases))].copy()
        sig[rng.integers(0, NUM_PERM, changes)] = rng.integers(0, 4, changes, dtype=np.uint32)
        sigs.append(None if i % 17 == 5 else sig)
    postings = [Posting(str(i), [], "", "", s) for i, s in enumerate(sigs)]
    got = near_duplicates(postings, threshold)
    assert len(got) == len(set(got)) and all(j < i for j, i in got)
    assert set(got) == _near_duplicates_datasketch(sigs, threshold)
