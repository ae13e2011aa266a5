"""Outputs of a screen: report sections per supplier and per country x good (the HTML page is
rendered by ``services/supply_report.py``), the XLSX workbook, and a FollowTheMoney export.

Every report names the lists with edition and version and says, at the top, that a hit is
sector and geography risk, not an allegation. The FtM stream holds a ``Company`` per supplier
(and per listed entity matched), an ``Ownership`` where a purchase line names a supplier id
owned by another (not in a ledger: left to users' own data), and a ``Risk`` per hit group with
``topics`` ``forced.labor`` (the DOL List and entity lists) and ``export.risk`` (entity lists:
import bans), citing the list version in ``program`` and the path in ``summary``. Ids come from
the content, so the same screen gives the same stream.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from followthemoney import model
from openpyxl import Workbook

CAVEAT = ("A hit is sector and geography risk, not an allegation: the DOL List names goods and "
          "countries, never companies; an entity-list match is a candidate for a person to "
          "confirm.")
NAMESPACE = "ctip-supply"

KEYS = ("supplier", "rule", "good", "hit_country", "flags", "path", "matched_name", "score",
        "lines", "value", "list_version")
HEADERS = ("Supplier", "Rule", "Listed good", "Country", "Flags", "Input path",
           "Matched entity", "Score", "Lines", "Value", "List version")


def sections(groups: Sequence[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Groups per supplier (``by='supplier'``) or per listed country x good (``'country_good'``;
    entity matches are left out there: they are about a company, not a good)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for g in groups:
        if by == "supplier":
            key = str(g["supplier"])
        elif g["rule"] == "entity_list":
            continue
        else:
            key = f"{g.get('hit_country')} x {g.get('good')}"
        out.setdefault(key, []).append(g)
    return [{"title": k, "rows": sorted(v, key=lambda r: -float(r["score"]))}
            for k, v in sorted(out.items())]


def xlsx_report(groups: Sequence[dict[str, Any]], *, run: dict[str, Any]) -> bytes:
    wb = Workbook()
    about = wb.active
    about.title = "About"
    about.append(["Caveat", CAVEAT])
    about.append(["DOL List edition", run["edition"]])
    for label, version in sorted(run["lists"].items()):
        about.append(["List", label, version])
    about.append(["Source file", run["file"], f"{run['read']} read = {run['accepted']} "
                  f"accepted + {run['rejected']} rejected"])
    for by, name in (("supplier", "By supplier"), ("country_good", "By country x good")):
        sheet = wb.create_sheet(name)
        sheet.append(["Group", *HEADERS])
        for section in sections(groups, by):
            for row in section["rows"]:
                sheet.append([section["title"], *[row.get(k) for k in KEYS]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _make(schema: str, *parts: Any) -> Any:
    entity = model.make_entity(schema)
    entity.id = entity.make_id(NAMESPACE, schema, *[str(p) for p in parts])
    return entity


def ftm_entities(groups: Iterable[dict[str, Any]],
                 ownership: Iterable[tuple[str, str]] = ()) -> list[dict[str, Any]]:
    """FtM dicts sorted by id: suppliers, matched listed entities, ownerships and risks."""
    out: dict[str, Any] = {}
    companies: dict[str, Any] = {}

    def company(name: str, country: str | None, *key: str) -> Any:
        entity = companies.get("\x00".join((name, *key)))
        if entity is None:
            entity = _make("Company", name, *key)
            entity.add("name", name)
            if country:
                entity.add("country", country.lower() if len(country) == 2 else country)
            companies["\x00".join((name, *key))] = entity
            out[entity.id] = entity
        return entity

    for g in groups:
        supplier = company(g["supplier"], None, "supplier")
        if g.get("supplier_country"):
            supplier.add("country", g["supplier_country"], quiet=True)
        risk = _make("Risk", g["supplier"], g["rule"], g.get("good"), g.get("hit_country"),
                     g.get("entity_id"), g["list_version"])
        risk.add("entity", supplier.id)
        risk.add("topics", "forced.labor")
        if g["rule"] == "entity_list":
            risk.add("topics", "export.risk")
            listed = company(g.get("entity_name") or g.get("matched_name") or "", None,
                             "listed", str(g.get("entity_id")))
            listed.add("topics", "export.risk")
            risk.add("summary", f"name match {float(g['score']):.2f} with {listed.first('name')}")
        else:
            flags = g.get("flags") or ""
            what = g.get("path") or f"{g.get('good')} from {g.get('hit_country')}"
            risk.add("summary", f"{what}: DOL List {g.get('edition')} ({flags})")
        risk.add("authority", g["list_label"])
        risk.add("program", g["list_version"])
        risk.add("reason", CAVEAT)
        if g.get("hit_country"):
            risk.add("country", g["hit_country"], quiet=True)
        out[risk.id] = risk
    for owner, asset in ownership:
        link = _make("Ownership", owner, asset)
        link.add("owner", company(owner, None, "supplier").id)
        link.add("asset", company(asset, None, "supplier").id)
        out[link.id] = link
    return [out[k].to_dict() for k in sorted(out)]


def ftm_lines(entities: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entities)
