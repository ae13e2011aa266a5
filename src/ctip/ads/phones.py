"""Phone numbers in ad text, however they are written: ``+855 12 345 678``, ``0 9 1 7 5 5 5``,
``zero nine one seven ...`` (English, Spanish, French, Portuguese, Indonesian/Malay, Tagalog,
Vietnamese, Thai, Chinese, Russian), ``O9I7`` (letters for digits), Thai or Khmer digits.

Found in place: a phone's span covers the text as written (so a reviewer sees the trick), and its
value is the canonical number (E.164 where ``phonenumbers`` can parse it, else its digits). A
number written with words, letters or one-digit groups is marked ``obfuscated``: the JIRN study
found an obscured phone number among the few indicators that did predict trafficking.

The run-of-digit-units pattern is written by hand (no library reads spelled-out digits);
validation and formatting are ``phonenumbers`` (Google's libphonenumber metadata).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from ctip.ads import scan

DIGIT_WORDS: dict[str, dict[str, int]] = {
    "en": {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9},
    "es": {"cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
           "seis": 6, "siete": 7, "ocho": 8, "nueve": 9},
    "fr": {"zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
           "sept": 7, "huit": 8, "neuf": 9},
    "pt": {"um": 1, "dois": 2, "duas": 2, "três": 3, "quatro": 4, "sete": 7, "oito": 8,
           "nove": 9},
    "id": {"nol": 0, "kosong": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5,
           "enam": 6, "tujuh": 7, "delapan": 8, "lapan": 8, "sembilan": 9},
    "tl": {"sero": 0, "isa": 1, "dalawa": 2, "tatlo": 3, "apat": 4, "anim": 6, "pito": 7,
           "walo": 8, "siyam": 9},
    "vi": {"không": 0, "một": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
           "sáu": 6, "bảy": 7, "tám": 8, "chín": 9},
    "ru": {"ноль": 0, "один": 1, "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6,
           "семь": 7, "восемь": 8, "девять": 9},
}
# scripts written without spaces: no word boundaries around these
UNSPACED_DIGITS: dict[str, int] = {
    "ศูนย์": 0, "หนึ่ง": 1, "สอง": 2, "สาม": 3, "สี่": 4, "ห้า": 5, "หก": 6, "เจ็ด": 7,
    "แปด": 8, "เก้า": 9,
    "零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
    "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
    "幺": 1,
}
WORD_VALUE: dict[str, int] = {w: v for words in DIGIT_WORDS.values() for w, v in words.items()}
LETTER_VALUE = {"o": 0, "O": 0, "l": 1, "L": 1, "I": 1, "i": 1}

_words = "|".join(sorted(map(re.escape, WORD_VALUE), key=len, reverse=True))
_unspaced = "|".join(sorted(map(re.escape, UNSPACED_DIGITS), key=len, reverse=True))
# one digit unit: a digit, a digit word standing alone, a Thai/Chinese digit word, or a letter
# for a digit written right next to a real digit
_UNIT = (rf"(?:\d|(?<![^\W\d_])(?:{_words})(?![^\W\d_])|{_unspaced}"
         r"|(?<=\d)[oOlI]|[oOlI](?=\d))")
_SEP = r"[ \t\-–‐.·/()\[\]_*~]{0,3}"
PHONE_RUN = re.compile(
    rf"(?:(?<![\w+])(?P<plus>\+|plus {{0,2}}|00)?{_UNIT}(?:{_SEP}{_UNIT}){{6,16}})",
    re.IGNORECASE,
)
# the same without digit words, for the many ads that spell no digit out (five times faster)
_DIGIT_UNIT = r"(?:\d|(?<=\d)[oOlI]|[oOlI](?=\d))"
DIGIT_RUN = re.compile(
    rf"(?:(?<![\w+])(?P<plus>\+|plus {{0,2}}|00)?{_DIGIT_UNIT}(?:{_SEP}{_DIGIT_UNIT}){{6,16}})",
    re.IGNORECASE,
)
_DATE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_GROUPED = re.compile(r"^\d{1,3}(?:[., ]\d{3})+$")
_RANGE = re.compile(r"^\d[\d.,]*\s*[-–~]\s*\d[\d.,]*$")
_UNIT_TOKEN = re.compile(rf"{_UNIT}", re.IGNORECASE)
MIN_DIGITS, MAX_DIGITS = 8, 15


@dataclass(frozen=True)
class PhoneRun:
    start: int
    end: int
    digits: str
    international: bool
    obfuscated: bool


def _value(token: str) -> int | None:
    if len(token) == 1:
        if token in LETTER_VALUE:
            return LETTER_VALUE[token]
        value = unicodedata.digit(token, None)
        if value is not None:
            return value
    lowered = token.lower()
    if lowered in WORD_VALUE:
        return WORD_VALUE[lowered]
    return UNSPACED_DIGITS.get(token)


def _digits(span_text: str) -> tuple[str, bool]:
    """The digits a run spells, and whether it was written with words or letters for digits."""
    out: list[str] = []
    tricky = False
    for m in _UNIT_TOKEN.finditer(span_text):
        token = m.group(0)
        value = _value(token)
        if value is None:
            continue
        if not (len(token) == 1 and token.isdigit()):
            tricky = True
        out.append(str(value))
    return "".join(out), tricky


def _single_digit_groups(span_text: str) -> bool:
    groups = re.findall(r"\d+", span_text)
    return len(groups) >= 6 and sum(len(g) == 1 for g in groups) >= 5


# a coarse first pass that starts with a character class (the regex engine skips to such a
# character in C); the exact pattern then runs only inside what it found
_COARSE = re.compile(r"[+\d][\d \t\-–‐.·/()\[\]_*~oOlI]{6,90}")
_ANY_DIGIT = re.compile(r"\d")


def _candidates(text: str, words: bool) -> list[re.Match[str]]:
    if words:
        return list(PHONE_RUN.finditer(text))
    found: list[re.Match[str]] = []
    # a coarse match begins at a "+" or a digit: tried only there (``ctip.ads.scan``)
    begins = scan.digits(text, _ANY_DIGIT) + scan.find_all(text, "+")
    for coarse in scan.finditer(_COARSE, text, sorted(begins)):
        lo = coarse.start()
        while lo > 0 and text[lo - 1] in "oOlIiL":  # a letter written for a digit ("O9...")
            lo -= 1
        if text[max(0, lo - 5):lo].lower().rstrip().endswith("plus"):
            lo = text.lower().rfind("plus", 0, lo)
        found.extend(DIGIT_RUN.finditer(text, lo, coarse.end()))
    return found


def find_runs(text: str, money_near: Callable[[int, int], bool], *,
              words: bool = True) -> list[PhoneRun]:
    """Candidate phone numbers; ``money_near(start, end)`` says whether a currency or pay period
    stands next to the span (then a digit run is a salary, not a phone). ``words=False`` when
    the text holds no digit word (the caller's term pass knows)."""
    runs: list[PhoneRun] = []
    for m in _candidates(text, words):
        start, end = m.start(), m.end()
        while end > start and not text[end - 1].isalnum():
            end -= 1
        raw = text[start:end]
        plus = m.group("plus")
        body = raw[len(plus):] if plus else raw
        digits, tricky = _digits(body)
        if not (MIN_DIGITS <= len(digits) <= MAX_DIGITS):
            continue
        plain = body.strip()
        grouped = _GROUPED.match(plain) and not digits.startswith("0")  # amounts never do
        if not tricky and (_DATE.match(plain) or grouped):
            continue
        if not tricky and not plus and _RANGE.match(plain) and money_near(start, end):
            continue
        if not tricky and not plus and money_near(start, end):
            continue
        international = bool(plus) or digits.startswith("00")
        if digits.startswith("00"):
            digits = digits[2:]
        runs.append(PhoneRun(start, end, digits, international,
                             tricky or _single_digit_groups(body)))
    return runs


@lru_cache(maxsize=65536)  # a network reuses its numbers across many ads; pure in its arguments
def canonical(digits: str, international: bool, region: str | None) -> str:
    """E.164 (``+85512345678``) where the number parses as a possible number, else the digits."""
    try:
        if international:
            number = phonenumbers.parse("+" + digits, None)
        elif region:
            number = phonenumbers.parse(digits, region)
        else:
            return digits
    except phonenumbers.NumberParseException:
        return ("+" + digits) if international else digits
    if phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ("+" + digits) if international else digits


def phone_key(raw: str, region: str | None = None) -> str | None:
    """The canonical form of a phone number given on its own (an account holder's phone in a
    bank file, say), the same as an ad's phone would get: for joining by keyed pseudonym."""
    text = raw.strip()
    international = text.startswith("+") or text.startswith("00")
    digits, _ = _digits(text)
    if digits.startswith("00"):
        digits = digits[2:]
    if not (MIN_DIGITS - 1 <= len(digits) <= MAX_DIGITS):
        return None
    return canonical(digits, international, region)
