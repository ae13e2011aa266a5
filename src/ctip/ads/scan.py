"""``pattern.finditer(text)`` without trying the pattern at every position.

Python's regular-expression engine skips ahead in C only when a pattern starts with a literal or
a plain character set; a pattern that starts with an alternation of words, a case-insensitive
letter or a group (the cues of ``extract``, the salary amount) is tried at each of an ad's
~2,000 positions, which cost most of the screening time. Here a cheap *start* pattern, one that
does skip in C, finds the positions where a match may begin (a superset: every match of the
pattern begins at one of them), and the pattern is tried there alone.

The matches are the ones ``finditer`` gives: ``pattern.match(text, pos)`` sees the text before
``pos`` (look-behinds and ``\\b`` behave as in a scan), and a scan that finds a match at ``p``
resumes at its end, as here. It holds for patterns that never match the empty string (each one
used here is tested against its ``finditer`` with hypothesis, tests/ads/test_ads_scan.py).

``REFERENCE = True`` makes every helper fall back to the plain scan, so the tests can compare a
whole screening run with the per-position scan it replaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

REFERENCE = False


def starts(start: re.Pattern[str], text: str) -> list[int]:
    """Where ``start`` matches (it must match one character, or zero, at each such position:
    written as ``x(?=rest)``, so that no position is hidden inside another's match)."""
    return [m.start() for m in start.finditer(text)]


def find_all(text: str, words: Iterable[str]) -> list[int]:
    """Every position where one of ``words`` begins (``str.find``: a search in C), unordered
    between words."""
    out: list[int] = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            out.append(at)
            at = text.find(word, at + 1)
    return out


def positions(text: str, chars: str) -> list[int]:
    """Every position of one of ``chars`` (unordered between characters)."""
    return find_all(text, chars)


def has_words(text: str, needs: Iterable[Iterable[str]]) -> bool:
    """Whether ``text`` holds a word of each group (always, with ``REFERENCE``). Loops, not
    ``all(any(...))``: two generators per call cost more than the look-ups."""
    if REFERENCE:
        return True
    for group in needs:
        for word in group:
            if word in text:
                break
        else:
            return False
    return True


_ASCII_DIGITS = "0123456789"


def digits(text: str, digit: re.Pattern[str]) -> list[int]:
    """Every position where ``digit`` (``\\d``) matches, in order: for ASCII text, where one of
    the ten digits is (``str.find``, in C, skips far faster than the engine tests ``\\d``)."""
    if not text.isascii():
        return [m.start() for m in digit.finditer(text)]
    out = find_all(text, _ASCII_DIGITS)
    out.sort()
    return out


def finditer(pattern: re.Pattern[str], text: str,
             candidates: Iterable[int]) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, trying the pattern only at ``candidates`` (increasing)."""
    if REFERENCE:
        yield from pattern.finditer(text)
        return
    pos = 0
    match = pattern.match
    for at in candidates:
        if at < pos:
            continue
        m = match(text, at)
        if m is not None:
            yield m
            pos = m.end()
