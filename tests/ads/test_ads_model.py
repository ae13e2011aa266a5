"""The default model and its evaluation, on synthetic ads (which test the code, never the
accuracy: the generator decides what a risky ad looks like)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import StratifiedGroupKFold

from ctip.ads.classify import MODEL_CODES, AdModel, fit, indicator_score
from ctip.ads.evaluate import grouped_cv, precision_at, with_network_hits
from ctip.ads.pipeline import analyse
from ctip.ads.synthetic import generate
from ctip.errors import ValidationError


@pytest.fixture(scope="module")
def corpus():
    ads = list(generate(900, fraud_rate=0.12, seed=5))
    return [analyse(a) for a in ads], [a.label for a in ads]


def test_model_ranks_unseen_synthetic_ads_and_round_trips(corpus) -> None:
    analyses, labels = corpus
    texts = [a.masked() for a in analyses]
    codes = [{h.code for h in a.hits} for a in analyses]
    model = fit(texts[:600], codes[:600], labels[:600])
    p = model.predict(texts[600:], codes[600:])
    y = np.array(labels[600:])
    assert p.min() >= 0 and p.max() <= 1
    assert p[y == 1].mean() > p[y == 0].mean() + 0.3
    again = AdModel.from_bytes(model.to_bytes())
    assert np.allclose(again.predict(texts[600:], codes[600:]), p)
    assert not any(w.startswith("+855") or w.isdigit() and len(w) > 7
                   for w in model.vectoriser.vocabulary_)  # no phone in the vocabulary


def test_model_needs_both_classes() -> None:
    with pytest.raises(ValidationError, match="at least 5 risky"):
        fit(["a b"] * 10, [set()] * 10, [0] * 9 + [1])


def test_grouped_cv_reports_every_figure_and_keeps_groups_whole(corpus) -> None:
    analyses, labels = corpus
    result = grouped_cv(analyses, labels, folds=3)
    assert result.ads == 900 and result.risky == sum(labels) and result.folds == 3
    for figure in ("precision", "recall", "f1", "average_precision", "precision_at_base_rate",
                   "brier", "baseline_average_precision"):
        assert 0.0 <= getattr(result, figure) <= 1.0
    assert result.average_precision > result.base_rate  # better than chance on this generator
    assert set(result.per_indicator) >= set(MODEL_CODES)
    r07 = result.per_indicator["R07"]
    assert r07["fired"] >= r07["fired_risky"] and 0 <= r07["precision"] <= 1
    _, groups = with_network_hits(analyses)
    splitter = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
    for train, test in splitter.split(np.zeros(len(labels)), labels, groups):
        assert not {groups[i] for i in train} & {groups[i] for i in test}


def test_precision_at_and_indicator_score() -> None:
    scores = np.array([0.9, 0.8, 0.1, 0.7])
    labels = np.array([1, 0, 0, 1])
    assert precision_at(scores, labels, 2) == 0.5
    assert indicator_score(set()) == 0.0
    assert indicator_score({"R01", "R02"}) == pytest.approx(0.36)
