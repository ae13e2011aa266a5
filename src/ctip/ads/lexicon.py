"""The shipped reference data (lexicon, gazetteer, money table) and one pass that finds every term.

The data files in ``ctip/ads/data`` are versioned (each carries ``version`` and a ``status`` saying
what it was built from and what curation it needs); ``reference_versions()`` reports them so a
screening run records what it used.

Terms are found with an Aho-Corasick automaton (``pyahocorasick``): one pass over an ad finds all
of the ~1,500 terms at once, where a regular-expression alternation would try each term at each
position. Words of scripts written with spaces (Latin, Cyrillic, Vietnamese) must stand alone
("one" is not found in "someone"); Thai, Chinese, Khmer and Burmese terms match as substrings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import ahocorasick

from ctip.ads.normalise import fold
from ctip.ads.phones import DIGIT_WORDS, UNSPACED_DIGITS


def _load(name: str) -> dict[str, Any]:
    text = resources.files("ctip.ads").joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    return _load("lexicon.json")


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, Any]:
    return _load("gazetteer.json")


@lru_cache(maxsize=1)
def money() -> dict[str, Any]:
    return _load("money.json")


def reference_versions() -> dict[str, str]:
    return {"lexicon": lexicon()["version"], "gazetteer": gazetteer()["version"],
            "money": money()["version"]}


@lru_cache(maxsize=8192)  # called on the characters around every term found: few distinct ones
def spaced(ch: str) -> bool:
    """A letter or digit of a script that separates words with spaces."""
    code = ord(ch)
    return (ch.isalnum() or ch == "_") and (code < 0x0590 or 0x1E00 <= code <= 0x1FFF)


@lru_cache(maxsize=8192)
def _letter(ch: str) -> bool:
    return ch.isalpha() and spaced(ch)


@dataclass(frozen=True)
class Term:
    """What a found term means: a lexicon group, a role or a place."""

    category: str  # "group", "role" or "place"
    key: str  # group name, role id or place id
    language: str


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    term: Term


class TermIndex:
    """Every term of some vocabularies, found in one pass over folded text."""

    def __init__(self, entries: Iterable[tuple[str, Term]]) -> None:
        merged: dict[str, list[Term]] = {}
        for text, term in entries:
            key = " ".join(fold(text).split())
            if key:
                known = merged.setdefault(key, [])
                if all((t.category, t.key) != (term.category, term.key) for t in known):
                    known.append(term)
        # every term, and the ASCII terms alone: only they can be found in ASCII text, and an
        # automaton without the other scripts' terms walks such text in half the time
        self._automaton, self._ascii = ahocorasick.Automaton(), ahocorasick.Automaton()
        for key, terms in merged.items():
            # digit words may be glued to digits ("09one7"): only a letter breaks them
            glued = all(t.category == "digit" for t in terms)
            entry = (len(key), spaced(key[0]), spaced(key[-1]), glued, tuple(terms))
            self._automaton.add_word(key, entry)
            if key.isascii():
                self._ascii.add_word(key, entry)
        self._automaton.make_automaton()
        if len(self._ascii):
            self._ascii.make_automaton()
        else:
            self._ascii = self._automaton

    def find(self, folded: str, *, every: bool = False) -> Iterator[Found]:
        """Each term found in ``folded`` (``every``: through the automaton of every term, even
        for ASCII text; the tests compare the two)."""
        n = len(folded)
        automaton = self._ascii if folded.isascii() and not every else self._automaton
        for end_index, entry in automaton.iter(folded):
            length, bound_start, bound_end, glued, terms = entry
            start, end = end_index - length + 1, end_index + 1
            joined = _letter if glued else spaced
            if bound_start and start > 0 and joined(folded[start - 1]):
                continue
            if bound_end and end < n and joined(folded[end]):
                continue
            for term in terms:
                yield Found(start, end, term)


def _entries() -> Iterator[tuple[str, Term]]:
    for name, group in lexicon()["groups"].items():
        for language, terms in group["terms"].items():
            for text in terms:
                yield text, Term("group", name, language)
    for role_id, role in lexicon()["roles"].items():
        for language, terms in role["terms"].items():
            for text in terms:
                yield text, Term("role", role_id, language)
    for place in gazetteer()["places"]:
        for text in place["names"]:
            yield text, Term("place", place["id"], "")
    for text, code in money()["currency_words"].items():
        yield text, Term("currency", code, "")
    for period, terms in money()["periods"].items():
        for text in terms:
            yield text, Term("period", period, "")
    for language, words in DIGIT_WORDS.items():
        for text in words:
            yield text, Term("digit", text, language)
    for text in UNSPACED_DIGITS:
        yield text, Term("digit", text, "")


@lru_cache(maxsize=1)
def term_index() -> TermIndex:
    return TermIndex(_entries())


@lru_cache(maxsize=1)
def places() -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in gazetteer()["places"]}


@lru_cache(maxsize=1)
def roles() -> dict[str, dict[str, Any]]:
    return dict(lexicon()["roles"])


def group_indicator(name: str) -> str:
    return str(lexicon()["groups"][name]["indicator"])
