"""The text a reviewer reads and every extractor scans: HTML stripped, NFKC, invisible tricks gone.

Obfuscation that *hides* characters is undone here (zero-width spaces between digits, keycap and
variation-selector emoji, fullwidth and mathematical digits through NFKC, dingbat digits such as
❶ that NFKC leaves alone, HTML entities such as ``&#48;``). Obfuscation that *rewrites* a number
(spelled-out digits, ``0 9 1 7``, ``t . me / x``) is left in the text, so a reviewer sees the
trick itself, and is read in place by ``extract`` (offsets stay valid for highlighting).

Every span in ctip's ad module is an offset into the text ``clean`` returns.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from ctip.ads.records import SECTIONS, Ad

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_BLOCK_END = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr|/ul|/ol)\b[^>]*>", re.IGNORECASE)
# zero-width and other format characters, variation selectors, the combining keycap
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B, 0x200C, 0x200D,
     0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2060, 0x2061, 0x2062, 0x2063,
     0x2064, 0x20E3, 0xFE0E, 0xFE0F, 0xFEFF],
)
_SPACES = re.compile(r"[^\S\n]{2,}|[^\S \n]")  # runs, tabs, no-break spaces: not every space
_ODD_SPACE = re.compile(r"[^\S \n]")  # with no "  " either, _SPACES has nothing to replace
_LINES = re.compile(r"\s*\n\s*(?:\n\s*)+")
_NEWLINE_RUNS = re.compile(r" ?\n ?")


@lru_cache(maxsize=1)
def _digit_table() -> dict[int, str]:
    """Digits that are not decimal digits (❶, ➀, ⓵ ...): NFKC leaves some of them alone."""
    table: dict[int, str | None] = dict(_INVISIBLE)
    for code in range(0x2460, 0x2800):  # enclosed alphanumerics, dingbats
        ch = chr(code)
        value = unicodedata.digit(ch, None)
        if value is not None and unicodedata.category(ch) == "No":
            table[code] = str(value)
    for code in range(0x1F100, 0x1F10D):  # digit full stop / comma (🄁 ...)
        value = unicodedata.digit(chr(code), None)
        if value is not None:
            table[code] = str(value)
    return table  # type: ignore[return-value]


_ASCII_ODD_SPACES = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"  # the ASCII \s but " " and "\n"


def _odd_space(text: str) -> bool:
    """Whether ``_ODD_SPACE`` matches: in ASCII text, one of eight characters (``in`` searches
    in C; the engine tests the negated class at every character)."""
    if not text.isascii():
        return _ODD_SPACE.search(text) is not None
    for ch in _ASCII_ODD_SPACES:  # noqa: SIM110  (a loop: any() makes a generator a call)
        if ch in text:
            return True
    return False


@lru_cache(maxsize=1)
def _translated() -> re.Pattern[str]:
    """One of the characters ``_digit_table`` replaces or drops."""
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_digit_table())) + "]")


def strip_html(text: str) -> str:
    """Visible text of an HTML fragment or page (scripts and styles dropped, blocks on lines)."""
    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n", text)
    tree = HTMLParser(marked)
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    root = tree.body or tree.root
    return root.text(separator="") if root is not None else ""


def looks_like_html(text: str) -> bool:
    return "<" in text and _TAG.search(text) is not None


def clean(text: str) -> str:
    """One field's text as a reviewer should read it (see the module docstring)."""
    if not text:
        return ""
    if looks_like_html(text):
        text = strip_html(text)
    elif "&" in text and ";" in text:
        text = html.unescape(text)
    if not text.isascii():
        if _translated().search(text):  # else translate changes nothing, one look-up a char
            text = text.translate(_digit_table())
        text = unicodedata.normalize("NFKC", text)
    if "  " in text or _odd_space(text):  # else no match: a scan that finds nothing
        text = _SPACES.sub(" ", text)
    if text.count("\n") >= 2:  # _LINES needs two line breaks
        text = _LINES.sub("\n\n", text)
    return _NEWLINE_RUNS.sub("\n", text).strip() if "\n" in text else text.strip()


def joined_text(ad: Ad) -> tuple[str, dict[str, tuple[int, int]]]:
    """The ad's sections cleaned and joined (in ``SECTIONS`` order) with where each one lies."""
    parts: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    at = 0
    for name in SECTIONS:
        value = clean(ad.sections.get(name, ""))
        if not value:
            continue
        if parts:
            parts.append("\n\n")
            at += 2
        spans[name] = (at, at + len(value))
        parts.append(value)
        at += len(value)
    return "".join(parts), spans


def fold(text: str) -> str:
    """Lower case with the same length as ``text`` (so offsets carry over), for matching."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # a few characters lower to two (U+0130): fold them one by one, keeping one character each
    return "".join(c.lower()[:1] or c for c in text)

