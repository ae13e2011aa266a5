"""Screened ads as CSV rows and as FollowTheMoney entities (``followthemoney``).

FtM: the ad is a ``Document`` (title, the indicator notes as its summary, keywords = indicator
codes); its poster is an ``Organization`` when the ad names a company, else a ``Person`` keyed by
its first identifier; ``Documentation`` links ad and poster; posters sharing an identifier are
joined by ``UnknownLink`` (role: the shared identifier's kind and pseudonym label). Topics go on
the poster only when a reviewer decided the ad risky or escalated it: ``crime.fraud`` always,
and ``crime.traffick.human`` when a recruitment-for-exploitation indicator fired (R04 overseas or
paid travel, R05 scam-centre area, R06 visa evasion, R10 passport or bank details). An undecided
ad carries no topic: a screener's flag is not a finding.

Identifiers appear as pseudonym labels unless the caller passes their values (``revealed``),
which the service does only for an audited export with a stated reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from followthemoney import model

from ctip.ads.display import label

TRAFFICKING_CODES = frozenset({"R04", "R05", "R06", "R10"})
CSV_COLUMNS = ("ad_id", "source_ref", "source_row", "title", "company", "location", "score",
               "score_kind", "indicators", "cluster_id", "decision", "identifiers",
               "destinations", "roles", "monthly_usd")


@dataclass
class ExportedAd:
    ad_id: str
    source_ref: str | None
    source_row: int
    title: str
    company: str
    location: str
    score: float
    score_kind: str
    hits: Sequence[Mapping[str, Any]]
    cluster_id: str | None
    decision: str | None
    identifiers: Sequence[tuple[str, str]]  # (kind, pseudonym)
    destinations: str
    roles: str
    monthly_usd: float | None
    revealed: Mapping[str, str] = field(default_factory=dict)  # pseudonym -> value

    @property
    def codes(self) -> list[str]:
        return sorted({str(h["code"]) for h in self.hits})


def csv_row(ad: ExportedAd) -> dict[str, str]:
    return {
        "ad_id": ad.ad_id, "source_ref": ad.source_ref or "", "source_row": str(ad.source_row),
        "title": ad.title, "company": ad.company, "location": ad.location,
        "score": f"{ad.score:.4f}", "score_kind": ad.score_kind,
        "indicators": " ".join(ad.codes), "cluster_id": ad.cluster_id or "",
        "decision": ad.decision or "",
        "identifiers": " ".join(ad.revealed.get(p, label(k, p)) for k, p in ad.identifiers),
        "destinations": ad.destinations, "roles": ad.roles,
        "monthly_usd": "" if ad.monthly_usd is None else f"{ad.monthly_usd:.0f}",
    }


def _poster(ad: ExportedAd) -> Any | None:
    if ad.company:
        entity = model.make_entity("Organization")
        entity.make_id("ctip-ads-poster", "company", ad.company.casefold())
        entity.add("name", ad.company)
    elif ad.identifiers:
        kind, pseudo = ad.identifiers[0]
        entity = model.make_entity("Person")
        entity.make_id("ctip-ads-poster", "identifier", pseudo)
        entity.add("name", f"poster {label(kind, pseudo)}")
    else:
        return None
    for kind, pseudo in ad.identifiers:
        value = ad.revealed.get(pseudo)
        if value and kind == "phone" and value.startswith("+"):
            entity.add("phone", value, quiet=True)
        elif value and kind == "email":
            entity.add("email", value, quiet=True)
    if ad.decision in {"risky", "escalate"}:
        entity.add("topics", "crime.fraud")
        if TRAFFICKING_CODES & set(ad.codes):
            entity.add("topics", "crime.traffick.human")
    return entity


def ftm_entities(ads: Iterable[ExportedAd]) -> Iterator[dict[str, Any]]:
    """FtM entities as dicts (``{"id", "schema", "properties"}``), one per line when written."""
    holders: dict[str, list[tuple[str, str]]] = {}  # pseudonym -> [(poster id, kind)]
    posters_done: set[str] = set()
    for ad in ads:
        doc = model.make_entity("Document")
        doc.make_id("ctip-ads-ad", ad.ad_id)
        doc.add("title", ad.title or f"ad {ad.ad_id}")
        doc.add("summary", "; ".join(f"{h['code']}: {h['note']}" for h in ad.hits))
        doc.add("keywords", ad.codes)
        if ad.source_ref:
            doc.add("notes", f"source reference: {ad.source_ref}")
        yield doc.to_dict()
        poster = _poster(ad)
        if poster is None:
            continue
        if poster.id not in posters_done:
            posters_done.add(poster.id)
            yield poster.to_dict()
        link = model.make_entity("Documentation")
        link.make_id("ctip-ads-posted", ad.ad_id, poster.id)
        link.add("document", doc.id)
        link.add("entity", poster.id)
        link.add("role", "poster")
        yield link.to_dict()
        for kind, pseudo in ad.identifiers:
            holders.setdefault(pseudo, [])
            if (poster.id, kind) not in holders[pseudo]:
                holders[pseudo].append((poster.id, kind))
    for pseudo, owners in holders.items():
        first_id, kind = owners[0]
        for other_id, _ in owners[1:]:
            if other_id == first_id:
                continue
            link = model.make_entity("UnknownLink")
            link.make_id("ctip-ads-shared", pseudo, first_id, other_id)
            link.add("subject", first_id)
            link.add("object", other_id)
            link.add("role", f"shared {label(kind, pseudo)}")
            yield link.to_dict()
