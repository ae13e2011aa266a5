"""Synthetic entity lists, purchase ledgers and perturbed name pairs (demo, checks, benchmark).

Names are made the way UFLPA-listed names look (region, a distinctive core, an industry, a legal
form) so they share most words: a hard case for a matcher. Nothing here names a real company.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

REGIONS = ("Xinjiang", "Hotan", "Aksu", "Kashgar", "Urumqi", "Anhui", "Jiangsu", "Shenzhen",
           "Ningbo", "Hefei", "Changji", "Turpan")
SYLLABLES = ("zhong", "tai", "hua", "xin", "da", "quan", "sheng", "long", "feng", "yuan", "jin",
             "kang", "rui", "hong", "tian", "bao", "heng", "li", "ming", "an", "shun", "yi")
INDUSTRIES = ("Silicon", "Chemical", "Textile", "Cotton", "Electronics", "Technology",
              "Trading", "Apparel", "New Energy", "Tomato Products", "Materials", "Polysilicon")
FORMS = ("Co., Ltd.", "Group Co., Ltd.", "Company Limited", "Co Ltd", "Ltd", "Limited",
         "Holdings Ltd", "LLC")
TONES = str.maketrans({"a": "ā", "e": "é", "i": "ǐ", "o": "ò", "u": "ū"})
FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
# lines of a ledger: (product text, HS code, countries it is bought from)
PRODUCTS = (("Solar modules 450W", "854143", ("CHN", "VNM", "MYS", "THA")),
            ("Monocrystalline PV wafers", "381800", ("CHN",)),
            ("Polysilicon, solar grade", "280461", ("CHN", "DEU", "USA")),
            ("Lithium-ion battery packs", "850760", ("CHN", "KOR", "POL")),
            ("Cotton T-shirts", "610910", ("CHN", "BGD", "IND", "TUR", "VNM")),
            ("Cocoa beans", "180100", ("CIV", "GHA", "ECU")),
            ("Refined palm oil", "151190", ("IDN", "MYS")),
            ("Tomato paste", "200290", ("CHN", "ITA")),
            ("Office chairs", "940130", ("CHN", "POL", "MEX")),
            ("Laptops", "847130", ("CHN", "TWN", "MEX")),
            ("Gold bars", "710812", ("PER", "CHE", "COD")),
            ("Cut flowers", "060311", ("COL", "KEN", "NLD")),
            ("Printer paper", "480256", ("FIN", "BRA")),
            ("Steel bolts", "731815", ("DEU", "IND")),
            ("Rubber gloves", "401519", ("MYS", "THA")),
            ("Shrimp, frozen", "030617", ("THA", "IND", "ECU")),
            ("Coffee, green", "090111", ("BRA", "COL", "ETH")))


def company_name(rng: random.Random) -> str:
    core = "".join(rng.sample(SYLLABLES, 2)).capitalize()
    return f"{rng.choice(REGIONS)} {core} {rng.choice(INDUSTRIES)} {rng.choice(FORMS)}"


def entity_names(n: int, *, seed: int = 18) -> list[str]:
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < n:
        names[company_name(rng)] = None
    return list(names)


def _core_parts(name: str) -> tuple[str, str]:
    for form in sorted(FORMS, key=len, reverse=True):
        if name.endswith(" " + form):
            return name[: -len(form) - 1], form
    return name, ""


def perturb(name: str, kind: str, rng: random.Random) -> str:
    """One named perturbation of a listed name (what the same company looks like elsewhere)."""
    core, form = _core_parts(name)
    if kind == "legal_form":
        return f"{core} {rng.choice([f for f in FORMS if f != form] + [''])}".strip()
    if kind == "typo":
        words = core.split()
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 1)
            op = rng.choice(("drop", "swap", "double"))
            w = (w[:j] + w[j + 1:] if op == "drop" else
                 w[:j - 1] + w[j] + w[j - 1] + w[j + 1:] if op == "swap" else
                 w[:j] + w[j] + w[j:])
        words[i] = w
        return " ".join(words) + (f" {form}" if form else "")
    if kind == "transliteration":
        # pinyin with tone marks, or full-width Latin (how CJK systems often store Latin)
        if rng.random() < 0.5:
            return core.translate(TONES) + f" {form}"
        return "".join(FULLWIDTH.get(c, c) for c in core) + f" {form}"
    if kind == "word_order":
        region, rest = core.split(" ", 1)
        return f"{rest} ({region}) {form}".strip()
    if kind == "case_punctuation":
        return name.upper().replace(",", "").replace(".", "")
    raise ValueError(kind)


PERTURBATIONS = ("legal_form", "typo", "transliteration", "word_order", "case_punctuation")


def perturbed_pairs(names: list[str], n: int, *, seed: int = 7) -> list[tuple[str, int, str]]:
    """(perturbed name, index of the true name, perturbation) for n random picks."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        i = rng.randrange(len(names))
        kind = PERTURBATIONS[k % len(PERTURBATIONS)]
        out.append((perturb(names[i], kind, rng), i, kind))
    return out


@dataclass(frozen=True)
class Ledger:
    header: tuple[str, ...]
    listed: list[str]  # the entity list's names


HEADER = ("line_id", "supplier", "country", "product", "hs_code", "value", "date", "parent")


def ledger_rows(n: int, *, suppliers: int, listed: list[str], listed_share: float = 0.02,
                bad_share: float = 0.002, seed: int = 30,
                text_share: float = 0.5) -> Iterator[tuple[str, ...]]:
    """Purchase lines: ordinary suppliers, a few listed ones under perturbed names, and a few
    bad rows (no supplier, a non-number value, an unknown country, a bad date)."""
    rng = random.Random(seed)
    pool = entity_names(suppliers, seed=seed + 1)
    disguised = [perturb(name, PERTURBATIONS[i % len(PERTURBATIONS)], rng)
                 for i, name in enumerate(listed)]
    # each supplier sells one product from one country (a listed one: solar, polysilicon,
    # cotton garments or tomato paste from China)
    sells = {s: rng.randrange(len(PRODUCTS)) for s in pool}
    country_of = {s: rng.choice(PRODUCTS[sells[s]][2]) for s in pool}
    for s in disguised:
        sells[s], country_of[s] = rng.choice((0, 2, 4, 7)), "CHN"
    for i in range(n):
        if listed and rng.random() < listed_share:
            supplier = rng.choice(disguised)
        else:
            supplier = pool[rng.randrange(len(pool))]
        product, hs, _ = PRODUCTS[sells[supplier]]
        country = country_of[supplier]
        value = f"{rng.lognormvariate(8, 1.2):.2f}"
        day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        text, code = (product, "") if rng.random() < text_share else ("", hs)
        row = [f"PO-{i + 1:07d}", supplier, country, text, code, value, day, ""]
        if rng.random() < bad_share:
            field = rng.randrange(4)
            if field == 0:
                row[1] = ""
            elif field == 1:
                row[5] = "n/a"
            elif field == 2:
                row[2] = "Atlantis"
            else:
                row[6] = "2024-02-31"
        yield tuple(row)
