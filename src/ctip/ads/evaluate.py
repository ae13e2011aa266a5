"""Cross-validation grouped by company, never by row: one company's ads share wording, so a
row-level split lets the model recognise the company instead of the risk and flatters it.

Groups: the company name folded; without one (EMSCAD has none) the company profile; without
either, the ad's near-duplicate text cluster, so templated posts stay on one side of a split.
``StratifiedGroupKFold`` keeps the share of risky ads about equal across folds.

Figures (out-of-fold, pooled): precision, recall and F1 at ``threshold``; average precision;
precision at the natural base rate (of the top base-rate share of ads by score, how many are
risky); Brier score; per indicator: how often it fires on risky and on other ads, its
precision and its lift over the base rate; and the same ranking figures for the plain indicator
count, the baseline the model must beat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
)
from sklearn.model_selection import StratifiedGroupKFold

from ctip.ads.classify import check_labels, fit, fit_embeddings, indicator_score
from ctip.ads.cluster import Posting, cluster, signature
from ctip.ads.indicators import CODES, Hit
from ctip.ads.pipeline import Analysis, company_key


@dataclass
class Evaluation:
    ads: int
    risky: int
    folds: int
    groups: int
    threshold: float
    precision: float
    recall: float
    f1: float
    average_precision: float
    precision_at_base_rate: float
    brier: float
    baseline_average_precision: float  # the indicator count alone
    baseline_precision_at_base_rate: float
    per_indicator: dict[str, dict[str, float | int]] = field(default_factory=dict)

    @property
    def base_rate(self) -> float:
        return self.risky / self.ads if self.ads else 0.0

    def as_dict(self) -> dict[str, object]:
        out = {k: v for k, v in self.__dict__.items()}
        out["base_rate"] = round(self.base_rate, 4)
        return out


def postings(analyses: Sequence[Analysis]) -> list[Posting]:
    """Clustering input from analyses in memory (identifier keys in clear: never stored)."""
    out = []
    for n, a in enumerate(analyses):
        body = a.spans.get("body") or (0, len(a.text))
        out.append(Posting(str(n), [(i.key, i.start, i.end) for i in a.identifiers],
                           company_key(a.company_name, a.ad.company_profile),
                           a.ad.location.strip().lower(),
                           signature(a.template_signature_text()), body))
    return out


def with_network_hits(analyses: Sequence[Analysis]) -> tuple[list[set[str]], list[str]]:
    """Each ad's fired codes including R13/R14, and its cross-validation group."""
    result = cluster(postings(analyses))
    codes: list[set[str]] = []
    groups: list[str] = []
    for n, a in enumerate(analyses):
        extra: list[Hit] = result.hits.get(str(n), [])
        codes.append({h.code for h in a.hits} | {h.code for h in extra})
        key = company_key(a.company_name, a.ad.company_profile)
        groups.append(f"company:{key}" if key else
                      f"text:{result.cluster_of.get(str(n), str(n))}")
    return codes, groups


def precision_at(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    if k <= 0:
        return 0.0
    top = np.argsort(-scores, kind="stable")[:k]
    return float(labels[top].mean())


def grouped_cv(analyses: Sequence[Analysis], labels: Sequence[int], *, folds: int = 5,
               threshold: float = 0.5, seed: int = 0,
               on_fold: Callable[[int], None] | None = None,
               vectors: np.ndarray | None = None) -> Evaluation:
    """Out-of-fold figures of the default model, or of the embedding model when ``vectors``
    (one sentence embedding per ad, ``ctip.ads.embeddings.embed``) are given."""
    check_labels(labels)
    y = np.asarray(labels, dtype=int)
    codes, groups = with_network_hits(analyses)
    texts = [a.masked() for a in analyses]
    distinct = len(set(groups))
    folds = max(2, min(folds, distinct, int(y.sum()), int(len(y) - y.sum())))
    scores = np.zeros(len(y))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for n, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
        train_codes, test_codes = [codes[i] for i in train], [codes[i] for i in test]
        if vectors is not None:
            embedded = fit_embeddings(vectors[train], train_codes, y[train].tolist(), seed=seed)
            scores[test] = embedded.predict(vectors[test], test_codes)
        else:
            model = fit([texts[i] for i in train], train_codes, y[train].tolist(), seed=seed)
            scores[test] = model.predict([texts[i] for i in test], test_codes)
        if on_fold is not None:
            on_fold(n + 1)
    predicted = (scores >= threshold).astype(int)
    k = int(round(y.mean() * len(y)))
    count = np.array([indicator_score(c) for c in codes])
    per: dict[str, dict[str, float | int]] = {}
    for code in CODES:
        fired = np.array([code in c for c in codes])
        on_risky = int((fired & (y == 1)).sum())
        total = int(fired.sum())
        precision = on_risky / total if total else 0.0
        per[code] = {"fired": total, "fired_risky": on_risky,
                     "precision": round(precision, 4),
                     "recall": round(float(on_risky / y.sum()), 4),
                     "lift": round(float(precision / y.mean()), 2) if total else 0.0}
    return Evaluation(
        ads=len(y), risky=int(y.sum()), folds=folds, groups=distinct, threshold=threshold,
        precision=round(float(precision_score(y, predicted, zero_division=0)), 4),
        recall=round(float(recall_score(y, predicted, zero_division=0)), 4),
        f1=round(float(f1_score(y, predicted, zero_division=0)), 4),
        average_precision=round(float(average_precision_score(y, scores)), 4),
        precision_at_base_rate=round(precision_at(scores, y, k), 4),
        brier=round(float(brier_score_loss(y, scores)), 4),
        baseline_average_precision=round(float(average_precision_score(y, count)), 4),
        baseline_precision_at_base_rate=round(precision_at(count, y, k), 4),
        per_indicator=per,
    )
