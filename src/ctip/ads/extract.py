"""What an ad says, with where it says it: identifiers, salary, fees, places, roles, lexicon terms.

Identifiers (phones, messaging handles, e-mails, web addresses) are an investigated party's
personal data: they leave this module only inside an ``Extraction`` kept in memory; storage
seals their values and joins them by keyed pseudonym of ``Identifier.key``.

Patterns for handles, e-mail tricks (``name (at) site (dot) com``) and salaries are written by
hand: no library reads recruitment-ad conventions; phone numbers are ``ctip.ads.phones``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from ctip.ads import phones, scan
from ctip.ads.lexicon import Found, money, places, term_index
from ctip.ads.normalise import fold
from ctip.domain.countries import country, normalise_country

MESSAGING_KINDS = frozenset({"telegram", "wechat", "line", "skype", "handle", "whatsapp_group"})
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "hotmail.com", "outlook.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mail.com", "gmx.com", "gmx.net",
    "protonmail.com", "proton.me", "zoho.com", "yandex.com", "yandex.ru", "mail.ru", "qq.com",
    "163.com", "126.com", "sina.com", "naver.com", "rocketmail.com", "tutanota.com",
})
# hosts that are never the employer's own site
PLATFORM_HOSTS = frozenset({
    "t.me", "telegram.me", "telegram.dog", "wa.me", "whatsapp.com", "chat.whatsapp.com",
    "api.whatsapp.com", "line.me", "facebook.com", "fb.com", "m.facebook.com", "instagram.com",
    "tiktok.com", "twitter.com", "x.com", "youtube.com", "linkedin.com", "bit.ly", "tinyurl.com",
    "forms.gle", "docs.google.com", "google.com", "indeed.com", "jobstreet.com", "signal.me",
    "wechat.com", "weixin.qq.com", "zalo.me", "viber.com",
})
_TLDS = ("com|net|org|info|biz|io|co|asia|kh|ph|th|vn|my|id|sg|cn|hk|tw|mm|la|in|ae|uk|us|ru|"
         "de|fr|es|it|nl|au|ca|jp|kr|xyz|top|online|site|shop|app|me|cc|tv|ke|ng|za|pk|bd|lk|np")


@dataclass(frozen=True)
class Identifier:
    """A way to reach the poster. ``value`` is canonical (E.164 phones, lower-case e-mails and
    hosts, handles without ``@``); ``app`` names the messaging app a phone was offered on."""

    kind: str  # phone, telegram, wechat, line, skype, handle, whatsapp_group, email, url
    value: str
    start: int
    end: int
    app: str | None = None
    obfuscated: bool = False
    masked: bool = False  # a dataset's placeholder (EMSCAD #PHONE_...#): value is its hash

    @property
    def messaging(self) -> bool:
        return self.app is not None or self.kind in MESSAGING_KINDS

    @property
    def key(self) -> str:
        """What two ads must share to be linked: ``kind:value`` (e-mails and sites by host too)."""
        kind = "phone" if self.kind == "phone" else self.kind
        return f"{kind}:{self.value}"

    @property
    def host(self) -> str | None:
        if self.kind == "email" and not self.masked:
            return self.value.rsplit("@", 1)[-1]
        if self.kind == "url" and not self.masked:
            return self.value
        return None


@dataclass(frozen=True)
class Salary:
    start: int
    end: int
    low: float
    high: float
    currency: str | None
    period: str | None
    monthly_usd: float | None  # the high end per month in US dollars, where it can be worked out


@dataclass
class Extraction:
    identifiers: list[Identifier] = field(default_factory=list)
    salaries: list[Salary] = field(default_factory=list)
    terms: list[Found] = field(default_factory=list)  # lexicon groups, roles and places
    country: str | None = None  # ISO2 of the ad's own location, if it says

    def of(self, category: str, key: str | None = None) -> list[Found]:
        return [f for f in self.terms
                if f.term.category == category and (key is None or f.term.key == key)]

    @property
    def company_hosts(self) -> list[str]:
        """Hosts of the poster's own e-mail or web site (no free mail, no platforms)."""
        hosts = []
        for ident in self.identifiers:
            host = ident.host
            if host and host not in FREE_MAIL and not _platform(host):
                hosts.append(host)
        return hosts


@lru_cache(maxsize=65536)  # hosts repeat across a batch; the answer depends on the host only
def _platform(host: str) -> bool:
    return host in PLATFORM_HOSTS or any(host.endswith("." + p) for p in PLATFORM_HOSTS)


# ---- identifiers ---------------------------------------------------------------------------
_H = r"[A-Za-z0-9_]"
TELEGRAM_LINK = re.compile(
    r"(?<![\w.])(?:https?://)?(?:t|telegram)\s{0,2}[.\s]\s{0,2}(?:me|dog)\s{0,2}/\s{0,2}"
    rf"(?:joinchat/|\+)?@?(?P<h>{_H}{{4,40}})", re.IGNORECASE)
TELEGRAM_WORD = re.compile(
    r"(?<![A-Za-z])(?:telegram|tele|tg|电报|飞机|纸飞机|เทเลแกรม|телеграм)\s{0,2}(?:id|username)?"
    rf"\s{{0,2}}(?:[:：]\s{{0,2}}@?|@)(?P<h>[A-Za-z]{_H}{{3,31}})", re.IGNORECASE)
AT_HANDLE = re.compile(rf"(?<![\w@.])@(?P<h>[A-Za-z]{_H}{{3,31}})(?![\w@]|\.[a-z])")
WHATSAPP_LINK = re.compile(
    r"(?:wa\s{0,2}\.\s{0,2}me\s{0,2}/\s{0,2}|api\.whatsapp\.com/send\?phone=)"
    r"(?P<n>\+?\d[\d\s-]{6,18}\d)", re.IGNORECASE)
WHATSAPP_GROUP = re.compile(r"chat\.whatsapp\.com/(?P<h>[A-Za-z0-9]{10,40})", re.IGNORECASE)
WECHAT = re.compile(
    r"(?<![A-Za-z])(?:wechat|we chat|weixin|微信|vx|wx|v信)\s{0,2}(?:id|号)?\s{0,2}[:：]\s{0,2}"
    r"(?P<h>[A-Za-z][-_A-Za-z0-9]{5,19})", re.IGNORECASE)
LINE = re.compile(
    r"(?:(?<![A-Za-z])line\s{0,2}(?:id)?\s{0,2}[:：]\s{0,2}|line\.me/(?:R/)?(?:ti/p/)?)~?@?"
    r"(?P<h>[A-Za-z0-9][A-Za-z0-9._-]{2,19})", re.IGNORECASE)
SKYPE = re.compile(r"(?<![A-Za-z])skype\s{0,2}(?:id)?\s{0,2}[:：]\s{0,2}"
                   r"(?P<h>[A-Za-z][\w.,:-]{4,31})", re.IGNORECASE)
EMAIL = re.compile(
    r"(?P<u>[A-Za-z0-9][A-Za-z0-9._%+-]{0,63})\s?@\s?"
    rf"(?P<d>[A-Za-z0-9-]+(?:\s?\.\s?[A-Za-z0-9-]+)*\s?\.\s?(?:{_TLDS}))(?![A-Za-z0-9])",
    re.IGNORECASE)
EMAIL_SPELLED = re.compile(
    r"(?P<u>[A-Za-z0-9][A-Za-z0-9._%+-]{0,63})\s{0,2}(?:[\[({<]\s{0,2}(?:at|@)\s{0,2}[\])}>]|"
    r"\s(?:at|arroba|arobase)\s)\s{0,2}(?P<d>[A-Za-z0-9-]+(?:\s{0,2}(?:[\[({<]\s{0,2}(?:dot|\.)"
    rf"\s{{0,2}}[\])}}>]|\sdot\s|\.)\s{{0,2}}[A-Za-z0-9-]+)*?\s{{0,2}}(?:[\[({{<]\s{{0,2}}"
    rf"(?:dot|\.)\s{{0,2}}[\])}}>]|\sdot\s|\.)\s{{0,2}}(?:{_TLDS}))(?![A-Za-z0-9])",
    re.IGNORECASE)
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]]+|"
    rf"(?<![\w@.-])(?:[a-z0-9-]+\.)+(?:{_TLDS})(?![\w@-])(?:/[^\s<>\"'()]*)?",
    re.IGNORECASE)
_SPELLED_AT = re.compile(r"[\[({<]\s{0,2}(?:at|@)\s{0,2}[\])}>]|\s(?:at|arroba|arobase)\s")
_AT = re.compile("@")
_WA_CUE = re.compile(r"wa\s{0,2}\.\s{0,2}me|whatsapp\.com/send")
_URL_CUE = re.compile(rf"https?:|www\.|\.(?:{_TLDS})(?![\w-])", re.IGNORECASE)
# each handle pattern, its kind, its cue and the words a cue needs (one of each group in the
# folded text; the cues are case-sensitive on folded text, so an absent word means no match)
_HANDLES = (
    (WHATSAPP_GROUP, "whatsapp_group", re.compile(r"chat\.whatsapp"), (("chat.whatsapp",),)),
    (TELEGRAM_LINK, "telegram", re.compile(r"(?:t|telegram)\s{0,2}[.\s]\s{0,2}(?:me|dog)\s{0,2}/"),
     (("/",), ("me", "dog"))),
    (TELEGRAM_WORD, "telegram",
     re.compile(r"(?:telegram|tele|tg|电报|飞机|เทเลแกรม|телеграм)\s{0,2}(?:id|username)?\s{0,2}[:：@]"),
     (("tele", "tg", "电报", "飞机", "เทเลแกรม", "телеграм"), (":", "：", "@"))),
    (WECHAT, "wechat", re.compile(r"wechat|we chat|weixin|微信|vx|wx|v信"),
     (("wechat", "we chat", "weixin", "微信", "vx", "wx", "v信"),)),
    (LINE, "line", re.compile(r"line\s{0,2}(?:id)?\s{0,2}[:：]|line\.me"), (("line",),)),
    (SKYPE, "skype", re.compile(r"skype"), (("skype",),)),
)
MASK = re.compile(r"#(?P<k>URL|PHONE|EMAIL)_(?P<v>[0-9a-f]{8,})#")
_APP_WORDS = re.compile(
    r"(whats\s?app|\bwa\b|viber|zalo|telegram|\btg\b|\bline\b|signal|wechat|微信|\bimo\b)",
    re.IGNORECASE)
_NON_DIGIT = re.compile(r"\D")
_SPACE = re.compile(r"\s")
_TELEGRAM_AD = re.compile(r"telegram|电报|飞机|\btg\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_DOT_LETTER = re.compile(r"\.(?=[^\W\d_])")
_AT_WORD = re.compile(r"at(?=\s)")
_APP_NAMES = {"whats app": "whatsapp", "wa": "whatsapp", "tg": "telegram", "微信": "wechat"}


def _app_before(text: str, start: int) -> str | None:
    window = text[max(0, start - 24):start]
    found = _APP_WORDS.findall(window)
    if not found:
        return None
    name = " ".join(found[-1].lower().split())
    return _APP_NAMES.get(name, name.replace(" ", ""))


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


def _host(url: str) -> str | None:
    text = url if "://" in url else "http://" + url
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.").lower()


def _near(pattern: re.Pattern[str], text: str, anchors: Iterable[int],
          reach: int = 90) -> Iterator[re.Match[str]]:
    """``pattern``'s matches in windows around ``anchors`` (positions of a cue such as "@" or
    ".com"), not over the whole text: patterns that may start at any letter cost time in
    proportion to the text, windows in proportion to the cues (most ads have few)."""
    windows: list[list[int]] = []
    for at in sorted(anchors):
        lo, hi = max(0, at - reach), min(len(text), at + reach)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    seen: set[tuple[int, int]] = set()
    for lo, hi in windows:
        for m in pattern.finditer(text, lo, hi):
            if m.span() not in seen:
                seen.add(m.span())
                yield m


def _contact_before(contact_at: list[int], start: int) -> bool:
    return any(start - 25 <= end <= start for end in contact_at)


def identifiers(text: str, salaries: list[Salary], region: str | None,
                terms: list[Found] | None = None) -> list[Identifier]:
    """Every identifier in ``text``; ``terms`` from the term pass (contact words such as "call"
    or "liên hệ", currencies, digit words) steer the phone search."""
    terms = terms if terms is not None else list(term_index().find(fold(text)))
    contact_at = [f.end for f in terms if f.term.key == "contact_word"]
    currencies = [f for f in terms if f.term.category == "currency"]
    digit_words = any(f.term.category == "digit" for f in terms)
    folded = fold(text)
    found: list[Identifier] = []
    taken: list[tuple[int, int]] = []

    def add(ident: Identifier) -> None:
        if not _overlaps(ident.start, ident.end, taken):
            found.append(ident)
            taken.append((ident.start, ident.end))

    for m in (MASK.finditer(text) if "#" in text else ()):
        kind = {"URL": "url", "PHONE": "phone", "EMAIL": "email"}[m.group("k")]
        add(Identifier(kind, m.group("v"), m.start(), m.end(), masked=True))
    for m in _near(WHATSAPP_LINK, text, [c.start() for c in _WA_CUE.finditer(folded)]):
        raw = m.group("n")
        digits = _NON_DIGIT.sub("", raw)
        add(Identifier("phone", phones.canonical(digits, True, region), m.start(), m.end(),
                       app="whatsapp"))
    for pattern, kind, cue, needs in _HANDLES:
        if not scan.has_words(folded, needs):
            continue
        for m in _near(pattern, text, [c.start() for c in cue.finditer(folded)]):
            handle = m.group("h")
            if kind == "wechat" and handle.isdigit():
                continue  # a number: read as a phone below
            add(Identifier(kind, handle.lower(), m.start(), m.end(),
                           obfuscated=bool(_SPACE.search(m.group(0)[:12]))))
    ats = [m.start() for m in _AT.finditer(text)]
    for pattern in (EMAIL, EMAIL_SPELLED):
        cues = ats if pattern is EMAIL else [c.start() for c in _spelled_at(folded)]
        for m in _near(pattern, text, cues, reach=80):
            written = m.group(0).lower()
            if pattern is EMAIL_SPELLED and not re.search(r"[\[({<]\s{0,2}(?:at|@)", written) \
                    and "dot" not in written:
                continue  # "apply at www.site.com" is prose; "name at site dot com" is not
            domain = re.sub(r"\s|[\[\](){}<>]|dot", lambda x: "." if x.group(0) == "dot" else "",
                            m.group("d").lower())
            domain = re.sub(r"\.+", ".", domain).strip(".")
            add(Identifier("email", f"{m.group('u').lower()}@{domain}", m.start(), m.end(),
                           obfuscated=pattern is EMAIL_SPELLED or " " in m.group(0)))
    salary_spans = [(s.start, s.end) for s in salaries]

    def money_near(start: int, end: int) -> bool:
        return _overlaps(start, end, salary_spans) or _currency_next_to(currencies, start, end)

    for run in phones.find_runs(text, money_near, words=digit_words):
        if not (run.international or run.obfuscated or run.digits.startswith("0")
                or _contact_before(contact_at, run.start)):
            continue  # a plain digit run needs a trunk 0, a + or a "call"/"WhatsApp" before it
        add(Identifier("phone", phones.canonical(run.digits, run.international, region),
                       run.start, run.end, app=_app_before(text, run.start),
                       obfuscated=run.obfuscated))
    telegram_ad = _telegram_ad(text, folded)
    for m in _near(AT_HANDLE, text, ats, reach=40):
        add(Identifier("telegram" if telegram_ad else "handle", m.group("h").lower(),
                       m.start(), m.end()))
    url_cues = scan.finditer(_URL_CUE, folded, _url_starts(folded))
    for m in _near(URL, text, [c.start() for c in url_cues], reach=120):
        written = m.group(0).rstrip(".,;:!?")
        host = _host(written)
        if host and "." in host:
            add(Identifier("url", host, m.start(), m.start() + len(written)))
    found.sort(key=lambda i: i.start)
    return found


def _url_starts(folded: str) -> list[int]:
    """Where a match of ``_URL_CUE`` may begin: "http", "www." or a dot before a letter (the
    pattern ignores case, but every character that matches a letter of it is a letter)."""
    return sorted(scan.find_all(folded, ("http", "www.")) + scan.starts(_DOT_LETTER, folded))


def _spelled_at(folded: str) -> Iterator[re.Match[str]]:
    """``_SPELLED_AT.finditer(folded)``: a match begins at a bracket, or at a space before
    "at" and a space, "arroba" or "arobase"."""
    words = [m.start() for m in _AT_WORD.finditer(folded)] + scan.find_all(
        folded, ("arroba", "arobase"))
    begins = scan.positions(folded, "[({<") + [
        at - 1 for at in words if at and folded[at - 1].isspace()]
    return scan.finditer(_SPELLED_AT, folded, sorted(begins))


def _telegram_ad(text: str, folded: str) -> bool:
    """Whether the ad names Telegram (``_TELEGRAM_AD``). The pattern ignores case; its Latin
    letters have no case-insensitive partner but their capitals, which ``fold`` lowers, so
    "telegram" or "tg" is in the folded text wherever it matches."""
    if not scan.REFERENCE and not ("telegram" in folded or "tg" in folded or "电报" in text
                                   or "飞机" in text):
        return False
    return _TELEGRAM_AD.search(text) is not None


def _currency_next_to(currencies: list[Found], start: int, end: int) -> bool:
    return any(start - 5 <= f.end <= start or end <= f.start <= end + 5 for f in currencies)


# ---- salary ---------------------------------------------------------------------------------
_NUM = r"\d{1,3}(?:[,. \u00a0]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_MULT = (r"(?:k|m|thousand|million|mil|triệu|tr|juta|jt|nghìn|ngàn|ล้าน|พัน|千|万|萬|тыс)"
         r"(?![A-Za-z])")
_TO = r"(?:-|–|~|to|a|à|hasta|đến|tới|ถึง|至|до|sampai|hingga)"
AMOUNT = re.compile(  # starts with a digit class: the engine skips to digits in C
    rf"(?P<n1>{_NUM})\s?(?P<m1>{_MULT})?"
    rf"(?:\s?{_TO}\s?(?:[$€£฿₱₫¥₹₩₽]|[A-Za-z]{{1,4}}\$?)?\s?(?P<n2>{_NUM})\s?(?P<m2>{_MULT})?)?",
    re.IGNORECASE)


def _number(text: str, multiplier: str | None) -> float | None:
    t = text.replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", t):
        value = float(re.sub(r"[,.]", "", t))
    elif re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+[.,]\d{1,2}", t):
        value = float(re.sub(r"[,.]", "", t[:-3]) + "." + t[-2:].lstrip(".,"))
    else:
        try:
            value = float(t.replace(",", "."))
        except ValueError:
            return None
    if multiplier:
        value *= money()["multipliers"].get(multiplier.lower(), 1)
    return value


def _period(text: str, periods: list[Found], start: int, end: int) -> str | None:
    """The pay period written just after the amount, else just before it, on the same line."""
    after = [f for f in periods if end <= f.start <= end + 24 and "\n" not in text[end:f.start]]
    if after:
        return min(after, key=lambda f: f.start).term.key
    before = [f for f in periods
              if start - 24 <= f.end <= start and "\n" not in text[f.end:start]]
    return max(before, key=lambda f: f.end).term.key if before else None


def salaries(text: str, salary_span: tuple[int, int] | None, currencies: list[Found],
             periods: list[Found]) -> list[Salary]:
    """Amounts with a currency beside them, and any amount inside the ad's own salary field.

    Numbers are found by one pattern and their currency and pay period taken from the term pass
    (an alternation of ~150 currency and period words tried at every position cost most of the
    screening time)."""
    table = money()
    out: list[Salary] = []
    # every amount begins with a digit
    for m in scan.finditer(AMOUNT, text, scan.digits(text, _DIGIT)):
        start, end = m.start(), m.end()
        if start and text[start - 1] in ".,":
            continue
        mult = (m.group("m2") or m.group("m1") or "").lower()
        currency = table["multiplier_currency"].get(mult)
        before = [f for f in currencies if start - 6 <= f.end <= start]
        inside = [f for f in currencies if start < f.start < end]
        after = [f for f in currencies if end <= f.start <= end + 2]
        if before:
            f = max(before, key=lambda f: f.end)
            currency, start = f.term.key, f.start
        elif inside:
            currency = inside[0].term.key
        elif after:
            f = after[0]
            currency, end = f.term.key, f.end
        period = _period(text, periods, start, end)
        if currency is None:  # "40000-60000 per year USD": the currency right after the period
            right_after = [f for f in periods if end <= f.start <= end + 3]
            if right_after:
                p_end = right_after[0].end
                later = [f for f in currencies if p_end <= f.start <= p_end + 3]
                currency = later[0].term.key if later else None
        in_field = salary_span is not None and salary_span[0] <= start < salary_span[1]
        if currency is None and not in_field:
            continue
        low = _number(m.group("n1"), m.group("m1"))
        high = _number(m.group("n2"), m.group("m2") or m.group("m1")) if m.group("n2") else low
        if low is None or high is None or high <= 0:
            continue
        if high < low:
            high, low = low, high
        end = start + len(text[start:end].rstrip())
        out.append(Salary(start, end, low, high, currency, period,
                          _monthly_usd(high, currency, period)))
    return out


def _monthly_usd(amount: float, currency: str | None, period: str | None) -> float | None:
    table = money()
    if currency is None or currency not in table["usd_per_unit"]:
        return None
    usd = amount * table["usd_per_unit"][currency]
    if period is None:  # unstated: a yearly figure is large, a small one cannot be told apart
        if usd >= 15000:
            period = "year"
        elif usd >= 150:
            period = "month"
        else:
            return None
    return usd * table["monthly_factor"][period]


# ---- the whole ad ---------------------------------------------------------------------------
def ad_country(location: str) -> str | None:
    """ISO2 of an ad's own location ("US, NY, New York", "Phnom Penh, Cambodia")."""
    parts = [p.strip() for p in location.split(",") if p.strip()]
    for part in parts[:1] + parts[-1:] + parts[1:-1]:
        iso3 = normalise_country(part)
        if iso3:
            return country(iso3).iso2
    return None


def extract(text: str, spans: dict[str, tuple[int, int]]) -> Extraction:
    folded = fold(text)
    terms = list(term_index().find(folded))
    location = text[slice(*spans["location"])] if "location" in spans else ""
    own = ad_country(location) if location else None
    if own is None and "location" in spans:
        lo, hi = spans["location"]
        for f in terms:
            if f.term.category == "place" and lo <= f.start < hi:
                own = places()[f.term.key]["country"]
                break
    region = own or next((places_country(f) for f in terms if f.term.category == "place"), None)
    currencies = [f for f in terms if f.term.category == "currency"]
    periods = [f for f in terms if f.term.category == "period"]
    pay = salaries(text, spans.get("salary"), currencies, periods)
    kept = [f for f in terms if f.term.category in {"group", "role", "place"}]
    return Extraction(identifiers=identifiers(text, pay, region, terms), salaries=pay,
                      terms=kept, country=own)


def places_country(found: Found) -> str | None:
    return places()[found.term.key]["country"]
