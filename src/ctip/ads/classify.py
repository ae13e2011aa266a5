"""The default model: TF-IDF of the masked text (words and word pairs) beside the R01-R12
indicator features, logistic regression, calibrated (scikit-learn); nothing downloaded.

It is trained at run time, on a labelled file (``ctip ads train``) or on reviewers' decisions
(``ctip ads retrain``); ctip ships no trained model, because no public labelled set of
scam-compound recruitment ads exists and a model fitted to synthetic ads would rank real ads by
the quirks of a generator. Without a model, screening ranks by the number of indicators fired
(``indicator_score``) and says so.

The model sees the text with phones, handles and e-mails replaced by placeholders
(``pipeline.Analysis.masked``), so its vocabulary, stored sealed, holds no identifier.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from ctip.ads.indicators import CODES
from ctip.errors import ValidationError

# R13 and R14 depend on what else is in the store (the same ad would score differently beside
# other ads), so the model reads R01-R12 only; R13/R14 are shown as reasons and count in the
# no-model ranking.
MODEL_CODES = CODES[:12]

MIN_PER_CLASS = 5
INDICATOR_WEIGHT = 1.0  # indicator columns beside TF-IDF columns whose rows have unit length


def indicator_matrix(hit_codes: Sequence[set[str]]) -> sparse.csr_matrix:
    rows, cols = [], []
    index = {c: i for i, c in enumerate(MODEL_CODES)}
    for r, codes in enumerate(hit_codes):
        for code in codes:
            if code in index:
                rows.append(r)
                cols.append(index[code])
    data = np.full(len(rows), INDICATOR_WEIGHT, dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(hit_codes), len(MODEL_CODES)))


def indicator_score(codes: set[str]) -> float:
    """Rank without a model: 1 - 0.8^k for k indicators fired. Not a probability: it orders ads
    by how many hypotheses they meet, each counted alike."""
    return round(1.0 - 0.8 ** len(codes), 6)


@dataclass
class AdModel:
    vectoriser: TfidfVectorizer
    classifier: CalibratedClassifierCV
    trained_on: int
    positives: int
    info: dict[str, str] = field(default_factory=dict)

    def features(self, texts: Sequence[str], hit_codes: Sequence[set[str]]) -> sparse.csr_matrix:
        return sparse.hstack([self.vectoriser.transform(texts), indicator_matrix(hit_codes)],
                             format="csr")

    def predict(self, texts: Sequence[str], hit_codes: Sequence[set[str]]) -> np.ndarray:
        """Calibrated probability that each ad is risky (fraudulent / recruitment lure)."""
        if not texts:
            return np.zeros(0)
        return self.classifier.predict_proba(self.features(texts, hit_codes))[:, 1]

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        joblib.dump(self, out, compress=3)
        return out.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> AdModel:
        """Only for bytes ctip sealed itself: the store opens them with authenticated encryption
        first, so a blob altered in the database never reaches the unpickler."""
        model = joblib.load(io.BytesIO(blob))
        if not isinstance(model, AdModel):
            raise ValidationError("the stored ad model is not a ctip ad model",
                                  hint="train a new one with `ctip ads train`")
        return model


def _vectoriser(n_docs: int) -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2 if n_docs >= 50 else 1, max_df=0.95,
                           sublinear_tf=True, max_features=200_000, dtype=np.float32)


def check_labels(labels: Sequence[int]) -> None:
    positives = int(sum(labels))
    negatives = len(labels) - positives
    if positives < MIN_PER_CLASS or negatives < MIN_PER_CLASS:
        raise ValidationError(
            f"a model needs at least {MIN_PER_CLASS} risky and {MIN_PER_CLASS} fine ads; "
            f"got {positives} risky and {negatives} fine",
            hint="label more ads (or review more ads in the queue) and train again")


def fit(texts: Sequence[str], hit_codes: Sequence[set[str]], labels: Sequence[int], *,
        seed: int = 0) -> AdModel:
    """Fit TF-IDF + logistic regression, calibrated by sigmoid on inner folds."""
    check_labels(labels)
    y = np.asarray(labels, dtype=int)
    vectoriser = _vectoriser(len(texts))
    x_text = vectoriser.fit_transform(texts)
    x = sparse.hstack([x_text, indicator_matrix(hit_codes)], format="csr")
    folds = int(min(3, y.sum(), len(y) - y.sum()))
    base = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear", max_iter=2000,
                              random_state=seed)
    classifier = CalibratedClassifierCV(base, method="sigmoid", cv=folds)
    classifier.fit(x, y)
    return AdModel(vectoriser, classifier, trained_on=len(y), positives=int(y.sum()),
                   info={"sklearn": sklearn.__version__, "features": "tfidf(1,2)+R01-R12",
                         "vocabulary": str(len(vectoriser.vocabulary_))})


@dataclass
class EmbeddingModel:
    """The optional model: logistic regression on sentence embeddings beside R01-R12."""

    classifier: CalibratedClassifierCV

    def predict(self, vectors: np.ndarray, hit_codes: Sequence[set[str]]) -> np.ndarray:
        x = np.hstack([vectors, indicator_matrix(hit_codes).toarray()])
        return self.classifier.predict_proba(x)[:, 1]


def fit_embeddings(vectors: np.ndarray, hit_codes: Sequence[set[str]], labels: Sequence[int], *,
                   seed: int = 0) -> EmbeddingModel:
    check_labels(labels)
    y = np.asarray(labels, dtype=int)
    x = np.hstack([vectors, indicator_matrix(hit_codes).toarray()])
    folds = int(min(3, y.sum(), len(y) - y.sum()))
    base = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=seed)
    classifier = CalibratedClassifierCV(base, method="sigmoid", cv=folds)
    classifier.fit(x, y)
    return EmbeddingModel(classifier)
