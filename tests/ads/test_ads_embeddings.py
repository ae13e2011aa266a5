"""The optional sentence-embedding path: the bundled model loads offline, near-duplicates are
found across paraphrase, and the embedding model cross-validates grouped by company. The extra
is part of the test extra, so these tests never skip: without it they fail."""

from __future__ import annotations

import os

import numpy as np

from ctip.ads import embeddings


def test_model_loads_offline_and_finds_paraphrased_templates() -> None:
    texts = ["Customer service job in Cambodia, free flight, earn 3000 USD per month, "
             "no experience needed",
             "Customer support role in Cambodia with paid flights, salary 3000 dollars "
             "monthly, no experience required",
             "Senior accountant for our London office, five years of audit experience"]
    vectors = embeddings.embed(texts)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embeddings.near_duplicates(vectors, threshold=0.8) == [(0, 1)]


def test_embedding_model_cross_validates_grouped_by_company() -> None:
    from ctip.ads.evaluate import grouped_cv
    from ctip.ads.pipeline import analyse
    from ctip.ads.synthetic import generate

    ads = list(generate(240, fraud_rate=0.15, seed=2, body_sentences=(3, 6)))
    analyses = [analyse(a) for a in ads]
    vectors = embeddings.embed([a.masked() for a in analyses])
    result = grouped_cv(analyses, [a.label for a in ads], folds=3, vectors=vectors)
    assert result.ads == 240 and 0 <= result.brier <= 1
    assert result.average_precision > result.base_rate
