"""Users' entity lists (the second kind of list): UFLPA Entity List, CBP WROs and Findings.

Not shipped: OpenSanctions' packaging of these lists is CC BY-NC 4.0, so each user loads their
own copy, as CSV (``name`` required; ``aliases`` separated by ``;``, ``country``, ``id``,
``program``, ``listed_on``, ``reason``, ``source_url`` optional) or as FollowTheMoney JSON
lines (what OpenSanctions publishes: ``Company``/``Organization``/``LegalEntity`` entities, and
``Sanction`` entities whose ``entity`` names one of them, giving program and listing date).
A list's version is the digest of its canonical entries with the label, printed on every hit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ctip.domain.countries import normalise_country
from ctip.errors import InputFileError

FTM_PARTIES = {"Company", "Organization", "LegalEntity", "PublicBody"}


@dataclass(frozen=True, order=True)
class ListedEntity:
    entity_id: str
    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None  # ISO3 when recognised
    program: str | None = None
    listed_on: str | None = None
    reason: str | None = None
    source_url: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class EntityList:
    label: str  # e.g. "UFLPA Entity List"
    kind: str  # uflpa | wro | other
    entities: tuple[ListedEntity, ...]
    version: str
    source_format: str  # csv | ftm


@dataclass
class EntityLoad:
    entity_list: EntityList
    read: int
    rejects: list[dict[str, Any]] = field(default_factory=list)  # row, reasons

    @property
    def accepted(self) -> int:
        return len(self.entity_list.entities)


def _version(label: str, entities: tuple[ListedEntity, ...]) -> str:
    canonical = json.dumps([label, [asdict(e) for e in entities]], ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return f"entities:{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def _country(text: str | None) -> str | None:
    return normalise_country(text) if text else None


def _text(value: Any) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


def read_entities_csv(data: bytes, *, source_name: str, label: str,
                      kind: str = "other") -> EntityLoad:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError("{source_name} is not UTF-8 text",
                             params={"source_name": source_name}) from None
    reader = csv.DictReader(io.StringIO(text))
    if "name" not in (reader.fieldnames or ()):
        raise InputFileError("{source_name} has no 'name' column",
                             hint="columns: name, aliases, country, id, program, listed_on",
                             params={"source_name": source_name})
    entities: dict[str, ListedEntity] = {}
    rejects: list[dict[str, Any]] = []
    read = 0
    for row, raw in enumerate(reader, start=2):
        read += 1
        reasons = []
        name = _text(raw.get("name"))
        if not name:
            reasons.append(f"file {source_name}, row {row}, column 'name': is empty")
        country_text = _text(raw.get("country"))
        country = _country(country_text)
        if country_text and not country:
            reasons.append(f"file {source_name}, row {row}, column 'country': "
                           f"{country_text[:40]!r} is not a country")
        entity_id = _text(raw.get("id")) or f"row-{row}"
        if entity_id in entities:
            reasons.append(f"file {source_name}, row {row}, column 'id': {entity_id!r} "
                           "appears twice")
        if reasons:
            rejects.append({"row": row, "reasons": reasons})
            continue
        assert name is not None
        aliases = tuple(a for a in (_text(x) for x in (raw.get("aliases") or "").split(";"))
                        if a and a != name)
        entities[entity_id] = ListedEntity(
            entity_id, name, aliases, country, _text(raw.get("program")),
            _text(raw.get("listed_on")), _text(raw.get("reason")), _text(raw.get("source_url")))
    found = tuple(sorted(entities.values()))
    return EntityLoad(EntityList(label, kind, found, _version(label, found), "csv"), read,
                      rejects)


def _values(props: dict[str, Any], key: str) -> list[str]:
    return [v for v in (_text(x) for x in props.get(key) or []) if v]


def read_entities_ftm(data: bytes, *, source_name: str, label: str,
                      kind: str = "other") -> EntityLoad:
    """FollowTheMoney JSON lines: parties become entities, Sanctions add program and date."""
    parties: dict[str, dict[str, Any]] = {}
    sanctions: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    read = 0
    for row, line in enumerate(data.decode("utf-8-sig", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        read += 1
        try:
            entity = json.loads(line)
            schema, props = entity["schema"], entity.get("properties") or {}
            entity_id = str(entity["id"])
        except (ValueError, KeyError, TypeError):
            rejects.append({"row": row, "reasons": [
                f"file {source_name}, line {row}: not a FollowTheMoney entity (JSON with id, "
                "schema, properties)"]})
            continue
        if schema == "Sanction":
            sanctions.append(props)
        elif schema in FTM_PARTIES:
            if not _values(props, "name"):
                rejects.append({"row": row, "reasons": [
                    f"file {source_name}, line {row}, property 'name': is empty"]})
                continue
            parties[entity_id] = props
        else:
            rejects.append({"row": row, "reasons": [
                f"file {source_name}, line {row}, schema {schema!r}: not a company or "
                "organisation (skipped)"]})
    listing: dict[str, dict[str, str | None]] = {}
    for props in sanctions:
        for target in _values(props, "entity"):
            listing[target] = {"program": next(iter(_values(props, "program")), None),
                               "listed_on": next(iter(_values(props, "listingDate")
                                                      or _values(props, "startDate")), None),
                               "reason": next(iter(_values(props, "reason")), None),
                               "source_url": next(iter(_values(props, "sourceUrl")), None)}
    out = []
    for entity_id, props in parties.items():
        names = _values(props, "name")
        aliases = tuple(dict.fromkeys(a for a in names[1:] + _values(props, "alias")
                                      + _values(props, "previousName") if a != names[0]))
        countries = [c for c in (_country(x) for x in _values(props, "country")
                                 + _values(props, "jurisdiction")) if c]
        extra = listing.get(entity_id, {})
        out.append(ListedEntity(entity_id, names[0], aliases, countries[0] if countries else None,
                                extra.get("program"), extra.get("listed_on"), extra.get("reason"),
                                extra.get("source_url") or next(iter(_values(props, "sourceUrl")),
                                                                None)))
    found = tuple(sorted(out))
    return EntityLoad(EntityList(label, kind, found, _version(label, found), "ftm"), read,
                      rejects)


def read_entities(data: bytes, *, source_name: str, label: str, kind: str = "other",
                  fmt: str | None = None) -> EntityLoad:
    fmt = fmt or ("ftm" if source_name.lower().endswith((".json", ".jsonl", ".ftm"))
                  or data.lstrip()[:1] == b"{" else "csv")
    if fmt == "ftm":
        return read_entities_ftm(data, source_name=source_name, label=label, kind=kind)
    return read_entities_csv(data, source_name=source_name, label=label, kind=kind)
