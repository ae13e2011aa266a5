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
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from ctip.ads import scan, tokens
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

    def features(self, texts: Sequence[str], hit_codes: Sequence[set[str]],
                 toks: tokens.Tokens | None = None) -> sparse.csr_matrix:
        return sparse.hstack([tfidf(self.vectoriser, texts, toks), indicator_matrix(hit_codes)],
                             format="csr")

    def predict(self, texts: Sequence[str], hit_codes: Sequence[set[str]],
                toks: tokens.Tokens | None = None) -> np.ndarray:
        """Calibrated probability that each ad is risky (fraudulent / recruitment lure);
        ``toks``: the texts already split (``ctip.ads.tokens``), to read their words from."""
        if not texts:
            return np.zeros(0)
        return self.classifier.predict_proba(self.features(texts, hit_codes, toks))[:, 1]

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


class _Counts:
    """Word 1- and 2-gram counts against a fitted vocabulary, for a whole batch at once.

    scikit-learn counts in Python one n-gram at a time (joining each word pair into a string
    and looking it up); here the words come split once for the batch (``ctip.ads.tokens``, the
    split the MinHash shingles use too), each distinct word is matched to the model's vocabulary
    once per process (an array indexed by the shared vocabulary's ids), and the pairs are matched
    as integer keys in numpy. The matrix is the one ``CountVectorizer`` builds (same counts,
    dtype and sorted indices), so the TF-IDF values and the scores are unchanged
    (tests/ads/test_ads_fast_paths.py and test_ads_tokens.py compare them)."""

    def __init__(self, vectoriser: TfidfVectorizer) -> None:
        self.dtype = vectoriser.dtype
        self.n_features = len(vectoriser.vocabulary_)
        self.token_id: dict[str, int] = {}
        unigrams: dict[int, int] = {}
        pairs: list[tuple[int, int, int]] = []
        for term, column in vectoriser.vocabulary_.items():
            words = term.split(" ")  # tokens never hold a space: one space = a word pair
            ids = [self.token_id.setdefault(w, len(self.token_id)) for w in words]
            if len(ids) == 1:
                unigrams[ids[0]] = column
            else:
                pairs.append((ids[0], ids[1], column))
        self.width = max(1, len(self.token_id))
        self.unigram = np.full(self.width + 1, -1, np.int64)  # the last entry: unknown word
        for token, column in unigrams.items():
            self.unigram[token] = column
        keys = np.array([a * self.width + b for a, b, _ in pairs], dtype=np.int64)
        order = np.argsort(keys)
        self.pair_keys = keys[order]
        self.pair_columns = np.array([c for _, _, c in pairs], dtype=np.int64)[order]
        self._generation = -1  # of the word table _of_table was made for
        self._of_table = np.empty(0, np.int64)

    def _tokens_of(self, toks: tokens.Tokens) -> np.ndarray:
        """This model's token id (``width``: unknown) of each word id of the batch's table."""
        table = toks.table
        if self._generation != table.generation:
            self._generation, self._of_table = table.generation, np.empty(0, np.int64)
        known = len(self._of_table)
        if known < len(table.words):
            get, unknown = self.token_id.get, self.width
            more = np.fromiter((get(w, unknown) for w in table.words[known:]), np.int64,
                               len(table.words) - known)
            self._of_table = np.concatenate([self._of_table, more])
        return self._of_table

    def __call__(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.of_tokens(tokens.of_texts(texts))

    def of_tokens(self, toks: tokens.Tokens) -> sparse.csr_matrix:
        n_texts = len(toks)
        words = toks.ids[:toks.bounds[-1]]
        chars = toks.table.arrays()[3]
        doc = np.repeat(np.arange(n_texts), np.diff(toks.bounds))
        kept = chars[words] >= 2  # the vectoriser's tokens: words of two characters or more
        tok = self._tokens_of(toks)[words[kept]]
        doc = doc[kept]
        unknown = self.width
        columns = self.unigram[tok]
        keep = columns >= 0
        rows, cols = [doc[keep]], [columns[keep]]
        if len(tok) > 1 and len(self.pair_keys):
            a, b = tok[:-1], tok[1:]
            same = (doc[:-1] == doc[1:]) & (a != unknown) & (b != unknown)
            keys = a[same] * self.width + b[same]
            at = np.searchsorted(self.pair_keys, keys).clip(0, len(self.pair_keys) - 1)
            found = self.pair_keys[at] == keys
            rows.append(doc[:-1][same][found])
            cols.append(self.pair_columns[at[found]])
        r, c = np.concatenate(rows), np.concatenate(cols)
        x = sparse.csr_matrix((np.ones(len(r), dtype=self.dtype), (r, c)),
                              shape=(n_texts, self.n_features), dtype=self.dtype)
        x.sum_duplicates()
        x.sort_indices()
        return x


_COUNTS: weakref.WeakKeyDictionary[TfidfVectorizer, _Counts] = weakref.WeakKeyDictionary()
_DEFAULT_WORDS = r"(?u)\b\w\w+\b"  # scikit-learn's default token_pattern: \w+ of 2 or more


def _supported(vectoriser: TfidfVectorizer) -> bool:
    return (vectoriser.analyzer == "word" and tuple(vectoriser.ngram_range) == (1, 2)
            and vectoriser.stop_words is None and not vectoriser.binary
            and vectoriser.lowercase and vectoriser.strip_accents is None
            and vectoriser.preprocessor is None and vectoriser.tokenizer is None
            and vectoriser.token_pattern == _DEFAULT_WORDS
            and hasattr(vectoriser, "vocabulary_") and hasattr(vectoriser, "_tfidf"))


def _counts(vectoriser: TfidfVectorizer) -> _Counts:
    counts = _COUNTS.get(vectoriser)
    if counts is None:  # built once per model, kept beside it (not in its pickle)
        counts = _COUNTS[vectoriser] = _Counts(vectoriser)
    return counts


def tfidf(vectoriser: TfidfVectorizer, texts: Sequence[str],
          toks: tokens.Tokens | None = None) -> sparse.csr_matrix:
    """``vectoriser.transform(texts)``, counted in batch where the settings are ctip's own
    (from ``toks``, the texts already split by ``ctip.ads.tokens``, where given).
    ``scan.REFERENCE`` makes it scikit-learn's own transform (for the tests' comparisons)."""
    if scan.REFERENCE or not _supported(vectoriser):
        return vectoriser.transform(texts)
    counts = _counts(vectoriser)
    x = counts.of_tokens(toks) if toks is not None else counts(texts)
    return vectoriser._tfidf.transform(x, copy=False)


def _vectoriser(n_docs: int) -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2 if n_docs >= 50 else 1, max_df=0.95,
                           sublinear_tf=True, max_features=200_000, dtype=np.float32)


def check_labels(labels: Sequence[int]) -> None:
    positives = int(sum(labels))
    negatives = len(labels) - positives
    if positives < MIN_PER_CLASS or negatives < MIN_PER_CLASS:
        raise ValidationError(
            "a model needs at least {min_per_class} risky and {min_per_class} fine ads; got "
            "{positives} risky and {negatives} fine",
            hint="label more ads (or review more ads in the queue) and train again",
            params={"min_per_class": MIN_PER_CLASS, "positives": positives, "negatives": negatives})


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
