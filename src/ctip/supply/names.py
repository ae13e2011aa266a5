"""Company-name matching: suppliers against the entities of users' lists (UFLPA, WROs).

Normalisation is rigour's (OpenSanctions' name library, also behind ``followthemoney``):
``remove_org_types`` drops legal forms in many languages ("Co., Ltd.",
"Aktiengesellschaft", "OOO"), and the result is transliterated to ASCII (``anyascii``) so a
Cyrillic or Greek spelling meets its Latin one. rigour's org-type table has no Chinese forms, so
the few pinyin suffixes of a transliterated Chinese name are cut here (``_PINYIN_FORMS``).

Scoring is rapidfuzz: the ratio of the word-sorted forms (word order), 0-1, lowered for each
word with no close partner in the other name; exact equality of the normalised or space-free
forms ("Ho Shine" = "Hoshine") scores 1. Every
candidate above the threshold goes to a person: a name is never an identification.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from anyascii import anyascii
from rapidfuzz import fuzz, process
from rigour.names import remove_org_types

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# transliterated Chinese legal forms (有限公司, 股份有限公司, 有限责任公司, 集团有限公司) that
# rigour's table does not hold; longest first
_PINYIN_FORMS = ("gufenyouxiangongsi", "youxianzerengongsi", "youxiangongsi", "gongsi")
_LEFTOVER_FORMS = frozenset({"co", "ltd", "tbk", "pt", "cv", "jsc", "llc", "inc", "corp", "sa",
                             "limited", "company", "ooo", "zao", "oao", "pao", "ao", "pvt",
                             "pte", "plc", "gmbh", "ag", "bv", "nv", "srl", "spa", "sas",
                             "coltd", "the", "group", "holding", "holdings"})
# the words of two names must pair up: a word of either name with no close word in the other
# ("Silicon" against "Chemical") costs this factor (same core, different company)
UNPAIRED = 0.85
WORD_PAIRS = 75
DEFAULT_THRESHOLD = 0.88


def normalise(name: str | None) -> str:
    """The comparable form: lower-case ASCII words, legal forms removed."""
    if not name:
        return ""
    # remove_org_types on the case-folded name gives what it gives after normalize_name (checked
    # on 20,000 names and the scripts of the tests) at a quarter of the cost
    text = remove_org_types(name.casefold(), replacement=" ")
    text = _NON_ALNUM.sub(" ", anyascii(text).casefold())
    words = [w for w in text.split() if w not in _LEFTOVER_FORMS]
    if words:
        last = words[-1]
        for form in _PINYIN_FORMS:
            if last.endswith(form) and len(last) > len(form):
                words[-1] = last[: -len(form)]
                break
    return " ".join(words)


def _unpaired(words: list[str], other: list[str]) -> int:
    return sum(1 for w in words if len(w) > 2 and not any(
        fuzz.ratio(w, o, score_cutoff=WORD_PAIRS) for o in other))


def _paired(a: str, b: str, base: float) -> float:
    """The whole-name score, lowered for every word that finds no partner in the other name.
    Space-free equality ("ho shine" = "hoshine") pairs by construction."""
    if a.replace(" ", "") == b.replace(" ", ""):
        return base
    wa, wb = a.split(), b.split()
    return base * UNPAIRED ** (_unpaired(wa, wb) + _unpaired(wb, wa))


@dataclass(frozen=True)
class Candidate:
    query: str  # the supplier name as given
    entity_index: int  # index into the matcher's entities
    matched_name: str  # the entity's name or alias that matched
    score: float
    method: str  # exact | fuzzy


class NameMatcher:
    """Names (with aliases) of the listed entities, indexed once, matched in bulk."""

    def __init__(self, entity_names: Sequence[Sequence[str]], *,
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._keys: list[str] = []
        self._owner: list[int] = []
        self._shown: list[str] = []
        self._exact: dict[str, list[tuple[int, str]]] = {}
        for index, names in enumerate(entity_names):
            for name in dict.fromkeys(n for n in names if n):
                key = normalise(name)
                if not key:
                    continue
                self._exact.setdefault(key, []).append((index, name))
                self._keys.append(key)
                self._owner.append(index)
                self._shown.append(name)
        self._sorted = [" ".join(sorted(k.split())) for k in self._keys]
        self._squashed = [k.replace(" ", "") for k in self._keys]
        self._squashed_exact: dict[str, list[tuple[int, str]]] = {}
        for key, owner, shown in zip(self._keys, self._owner, self._shown, strict=True):
            self._squashed_exact.setdefault(key.replace(" ", ""), []).append((owner, shown))

    def match(self, names: Iterable[str]) -> list[Candidate]:
        """Candidates for every name (several per name possible; one per entity, its best)."""
        queries = list(dict.fromkeys(n for n in names if n))
        keys = [normalise(q) for q in queries]
        out: list[Candidate] = []
        fuzzy_at: list[int] = []
        for i, (query, key) in enumerate(zip(queries, keys, strict=True)):
            if not key:
                continue
            exact = self._exact.get(key) or self._squashed_exact.get(key.replace(" ", ""))
            if exact:
                out.extend(Candidate(query, idx, shown, 1.0, "exact")
                           for idx, shown in dict(exact).items())
            else:
                fuzzy_at.append(i)
        if fuzzy_at and self._keys:
            # one C++ score matrix (queries x names) with a cut-off, on the word-sorted forms;
            # the space-free form ("ho shine" = "hoshine") is an exact look-up above
            sorted_q = [" ".join(sorted(keys[i].split())) for i in fuzzy_at]
            scores = process.cdist(sorted_q, self._sorted, scorer=fuzz.ratio,
                                   score_cutoff=self.threshold * 100, dtype=np.uint8, workers=1)
            for row, col in zip(*np.nonzero(scores), strict=True):
                key = keys[fuzzy_at[row]]
                score = _paired(key, self._keys[col], float(scores[row, col]) / 100)
                if score >= self.threshold:
                    out.append(Candidate(queries[fuzzy_at[row]], self._owner[col],
                                         self._shown[col], round(score, 4), "fuzzy"))
        keep: dict[tuple[str, int], Candidate] = {}
        for c in out:
            seen = keep.get((c.query, c.entity_index))
            if seen is None or c.score > seen.score:
                keep[(c.query, c.entity_index)] = c
        return sorted(keep.values(), key=lambda c: (c.query, -c.score, c.entity_index))
