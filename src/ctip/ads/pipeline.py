"""One ad from raw sections to what screening needs: text, spans, extraction, R01-R12, the
masked text the model and the near-duplicate search see (identifiers replaced by placeholders, so
neither a model file nor a MinHash signature carries a phone number or handle)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ctip.ads.extract import Extraction, Identifier, extract
from ctip.ads.indicators import Hit, text_hits
from ctip.ads.lexicon import places
from ctip.ads.normalise import joined_text
from ctip.ads.records import Ad

PLACEHOLDER = {"phone": "xxphonexx", "email": "xxemailxx", "url": "xxurlxx"}
_NON_WORD = re.compile(r"[^\w]+")


@dataclass
class Analysis:
    ad: Ad
    text: str  # what a reviewer reads; every span is an offset into it
    spans: dict[str, tuple[int, int]]
    extraction: Extraction
    hits: list[Hit]  # R01-R12 (R13, R14 are added by clustering)

    @property
    def identifiers(self) -> list[Identifier]:
        return self.extraction.identifiers

    def masked(self, section: str | None = None) -> str:
        """The text (or one section) with each identifier replaced by a placeholder."""
        lo, hi = self.spans.get(section, (0, 0)) if section else (0, len(self.text))
        return mask_text(self.text, [(i.kind, i.start, i.end) for i in self.identifiers], lo, hi)

    def template_signature_text(self) -> str:
        """What near-duplicate search compares: the body (the whole text when it is short)."""
        body = self.masked("body")
        return body if len(body) >= 200 else self.masked()

    @property
    def company_name(self) -> str:
        return self.text[slice(*self.spans["company"])] if "company" in self.spans else ""

    @property
    def destinations(self) -> list[str]:
        return sorted({f.term.key for f in self.extraction.of("place")})

    @property
    def roles(self) -> list[str]:
        return sorted({f.term.key for f in self.extraction.of("role")})

    @property
    def monthly_usd(self) -> float | None:
        paid = [s.monthly_usd for s in self.extraction.salaries if s.monthly_usd is not None]
        return max(paid) if paid else None

    @property
    def countries(self) -> list[str]:
        return sorted({places()[k]["country"] for k in self.destinations})


def mask_text(text: str, identifiers: Sequence[tuple[str, int, int]], lo: int = 0,
              hi: int | None = None) -> str:
    """``text[lo:hi]`` with each (kind, start, end) identifier replaced by its placeholder."""
    hi = len(text) if hi is None else hi
    out, at = [], lo
    for kind, start, end in sorted(identifiers, key=lambda i: i[1]):
        if start < lo or end > hi or start < at:
            continue
        out.append(text[at:start])
        out.append(f" {PLACEHOLDER.get(kind, 'xxhandlexx')} ")
        at = end
    out.append(text[at:hi])
    return "".join(out)


def company_key(name: str, profile: str = "") -> str:
    """What two ads of one company share: the name folded (accents, case, punctuation and legal
    suffixes dropped); with no name, the start of the company's profile text."""
    text = name.strip() or profile.strip()[:200]
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = [w for w in _NON_WORD.sub(" ", plain).split()
             if w not in {"ltd", "limited", "inc", "llc", "co", "corp", "company", "plc", "pte",
                          "sdn", "bhd", "gmbh", "sa", "srl", "pvt", "the"}]
    return " ".join(words)


def analyse(ad: Ad) -> Analysis:
    text, spans = joined_text(ad)
    extraction = extract(text, spans)
    hits = text_hits(text, spans, extraction, company_profile=ad.company_profile,
                     extra=ad.extra)
    return Analysis(ad, text, spans, extraction, hits)
