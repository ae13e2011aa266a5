"""One tokenisation of each ad's masked text, shared by the TF-IDF model and the MinHash shingles.

Both read the lower-cased words of the masked text: the vectoriser's tokens (scikit-learn's
``(?u)\\b\\w\\w+\\b`` on ``text.lower()``) are the ``\\w+`` words of two characters or more, and the
shingles are made of the ``\\w+`` words of the signature text (the masked body, which is the end
of the masked text, or the whole masked text when the body is short). So each ad's masked text is
split once (``\\w+`` on the lower-cased text), each word looked up once in a process-wide
vocabulary (``Vocabulary``), and the model's columns and the shingles' CRC registers are read
from arrays indexed by vocabulary id, in numpy, for the whole batch.

The body is split apart from what comes before it (the split falls on the line break or space
that precedes the body, which is neither a word character nor part of a case rule, so the words
and their lower case are those of the whole text); where the masked body is not the end of the
masked text (an identifier straddling the section break), the body is split on its own too.
tests/ads/test_ads_tokens.py compares every result with scikit-learn's and the per-text hashes.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WORD = re.compile(r"\w+")
_ONES = 0xFFFFFFFF
_GENERATIONS = itertools.count()


class _Index(dict[str, int]):
    """Word -> id; a word looked up for the first time gets the next id (one C-level look-up
    per word, the rare new word through ``__missing__``)."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []  # every word, in id order

    def __missing__(self, word: str) -> int:
        self[word] = at = len(self.new)
        self.new.append(word)
        return at


class Table:
    """Distinct words, each with an id (its place in ``words``) and what the users of a word
    need: its length in characters (the vectoriser drops one-character words) and, for the
    shingles, its CRC-32 register after the word and after the word and a space, and its UTF-8
    length. ``generation`` is unique to one table, so arrays kept by word id name the table
    they were made for."""

    def __init__(self) -> None:
        self.generation = next(_GENERATIONS)
        self.index = _Index()
        self.words = self.index.new
        self._rows: list[tuple[int, int, int, int]] = []
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def ids(self, words: list[str]) -> np.ndarray:
        """The id of each word (new words are added)."""
        known = len(self.words)
        ids = np.fromiter(map(self.index.__getitem__, words), np.int64, len(words))
        if len(self.words) > known:
            for word in self.words[known:]:
                data = word.encode("utf-8")
                bare = zlib.crc32(data, _ONES) ^ _ONES
                spaced = zlib.crc32(b" ", bare ^ _ONES) ^ _ONES
                self._rows.append((spaced, bare, len(data), len(word)))
            self._arrays = None
        return ids

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(register after word + space, register after word, UTF-8 length, characters), each
        indexed by word id."""
        if self._arrays is None:
            table = np.array(self._rows, dtype=np.int64).reshape(-1, 4)
            self._arrays = (table[:, 0].astype(np.uint32), table[:, 1].astype(np.uint32),
                            table[:, 2], table[:, 3])
        return self._arrays


class Vocabulary:
    """The words of a process, kept between batches (most words recur): a ``Table``, replaced
    by a new one when it holds more than ``LIMIT`` words (a batch's ``Tokens`` keep the table
    their ids belong to)."""

    LIMIT = 500_000

    def __init__(self) -> None:
        self.table = Table()

    def current(self) -> Table:
        if len(self.table.words) > self.LIMIT:
            self.table = Table()
        return self.table


VOCABULARY = Vocabulary()


@dataclass
class Tokens:
    """The words of a batch of texts, as ids of ``table``: text k's words are
    ``ids[bounds[k]:bounds[k + 1]]`` and its signature text's words ``ids[sig_lo[k]:sig_hi[k]]``
    (a part of the text's words, or words of the signature text split on its own)."""

    ids: np.ndarray
    bounds: np.ndarray
    sig_lo: np.ndarray
    sig_hi: np.ndarray
    table: Table

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def words(self, lo: int, hi: int) -> list[str]:
        words = self.table.words
        return [words[i] for i in self.ids[lo:hi].tolist()]


def _pack(words: list[str], bounds: list[int], sig_lo: list[int], sig_hi: list[int],
          vocabulary: Vocabulary) -> Tokens:
    table = vocabulary.current()
    return Tokens(table.ids(words), np.array(bounds, dtype=np.int64),
                  np.array(sig_lo, dtype=np.int64), np.array(sig_hi, dtype=np.int64), table)


_NOT_WORD = {c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}


def split(text: str) -> list[str]:
    """``WORD.findall(text.lower())``; for ASCII text, every character that is not a word
    character turned to a space and the text split on spaces (in C: a quarter less time)."""
    if text.isascii():
        return text.lower().translate(_NOT_WORD).split()
    return WORD.findall(text.lower())


def of_texts(texts: Sequence[str], vocabulary: Vocabulary = VOCABULARY) -> Tokens:
    """Each text's words (the signature text of each is the text itself)."""
    words: list[str] = []
    bounds = [0]
    for text in texts:
        words.extend(split(text))
        bounds.append(len(words))
    return _pack(words, bounds, bounds[:-1], bounds[1:], vocabulary)


def of_ads(masked: Sequence[str], bodies: Sequence[str], *, short: int = 200,
           vocabulary: Vocabulary = VOCABULARY) -> Tokens:
    """Each masked text's words, with its signature text's words: those of the masked body
    (``bodies[k]``, the end of ``masked[k]``) where it has ``short`` characters or more, else
    those of the whole masked text (``pipeline.Analysis.template_signature_text``)."""
    words: list[str] = []
    bounds = [0]
    sig_lo: list[int] = []
    sig_hi: list[int] = []
    extra: list[tuple[int, list[str]]] = []  # (text, body words) of bodies split on their own
    for k, (text, body) in enumerate(zip(masked, bodies, strict=True)):
        start = len(words)
        cut = len(text) - len(body)
        if len(body) < short:
            words.extend(split(text))
            sig_lo.append(start)
            sig_hi.append(len(words))
        elif text.endswith(body) and (cut == 0 or text[cut - 1] in "\n "):
            if cut:
                words.extend(split(text[:cut]))
            sig_lo.append(len(words))
            words.extend(split(body))
            sig_hi.append(len(words))
        else:
            words.extend(split(text))
            extra.append((k, split(body)))
            sig_lo.append(0)
            sig_hi.append(0)
        bounds.append(len(words))
    for k, body_words in extra:  # after every text's words: bounds stay contiguous
        sig_lo[k] = len(words)
        words.extend(body_words)
        sig_hi[k] = len(words)
    return _pack(words, bounds, sig_lo, sig_hi, vocabulary)
