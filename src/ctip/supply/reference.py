"""The DOL List of Goods as versioned reference data, and the reviewed crosswalks beside it.

The List comes as a flat CSV or as DOL's own XML (``<Goods><Good>...<Countries><Country>``);
both load into the same :class:`RiskList`, and the list's ``version`` is a digest of its
canonical content, so the same edition from either file has the same version (tested). Names
are NFC-normalised on load (DOL's files spell "Açaí" decomposed).

Country names map to ISO 3166-1 alpha-3 through ``data/dol_countries.csv`` and goods to HS
prefixes through ``data/dol_goods_hs.csv``: explicit reviewed tables, never fuzzy matching (a
wrong join is a false allegation of risk). What a table does not map is listed by
:func:`coverage`, not guessed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from defusedxml import ElementTree

from ctip.errors import InputFileError, ValidationError

DOL_NAME = "US DOL List of Goods Produced by Child Labor or Forced Labor"
SHIPPED_EDITION = 2022
FLAGS = ("child_labor", "forced_labor", "forced_child_labor", "derived")
CSV_COLUMNS = ("good", "sector", "country", "region", "child_labor", "forced_labor",
               "forced_child_labor", "derived_labor_exploitation", "derived_country")
XML_FIELDS = {"Country_Name": "country", "Country_Region": "region", "Child_Labor": "child_labor",
              "Forced_Labor": "forced_labor", "Forced_Child_Labor": "forced_child_labor",
              "Derived_Labor_Exploitation": "derived_labor_exploitation",
              "Derived_Country": "derived_country"}


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", (text or "").strip())


@dataclass(frozen=True, order=True)
class ListEntry:
    """One good-country pair of the List with its flags (``derived``: made with listed inputs;
    ``derived_country``: where those inputs come from)."""

    good: str
    country: str
    sector: str
    region: str
    child_labor: bool
    forced_labor: bool
    forced_child_labor: bool
    derived: bool
    derived_country: str | None = None

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(f for f in FLAGS if getattr(self, f))


@dataclass(frozen=True)
class RiskList:  # hashable (entries are a tuple): the screen caches its input paths per list
    name: str
    edition: int
    entries: tuple[ListEntry, ...]
    version: str  # "dol-2022:<12 hex>", the digest of the canonical entries

    @property
    def goods(self) -> set[str]:
        return {e.good for e in self.entries}

    @property
    def countries(self) -> set[str]:
        return {e.country for e in self.entries}


def list_version(prefix: str, edition: int, entries: Iterable[ListEntry]) -> str:
    canonical = json.dumps([asdict(e) for e in sorted(entries)], ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return f"{prefix}-{edition}:{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def _flag(value: str, *, file: str, row: int, column: str) -> bool:
    text = nfc(value).casefold()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0", ""):
        return False
    raise ValidationError("a flag must be Yes or No", file=file, row=row, column=column,
                          value=value, allowed="Yes, No")


def _entry(raw: dict[str, str], *, file: str, row: int) -> ListEntry:
    for column in ("good", "country"):
        if not nfc(raw.get(column)):
            raise ValidationError("is empty", file=file, row=row, column=column)
    derived_country = nfc(raw.get("derived_country"))
    return ListEntry(
        good=nfc(raw["good"]), country=nfc(raw["country"]), sector=nfc(raw.get("sector")),
        region=nfc(raw.get("region")),
        child_labor=_flag(raw.get("child_labor", ""), file=file, row=row, column="child_labor"),
        forced_labor=_flag(raw.get("forced_labor", ""), file=file, row=row,
                           column="forced_labor"),
        forced_child_labor=_flag(raw.get("forced_child_labor", ""), file=file, row=row,
                                 column="forced_child_labor"),
        derived=_flag(raw.get("derived_labor_exploitation", ""), file=file, row=row,
                      column="derived_labor_exploitation"),
        derived_country=None if derived_country.casefold() in ("", "no") else derived_country)


def _dedupe(entries: list[ListEntry], file: str) -> tuple[ListEntry, ...]:
    seen: dict[tuple[str, str], ListEntry] = {}
    for e in entries:
        if (e.good, e.country) in seen and seen[(e.good, e.country)] != e:
            raise ValidationError("{good} / {country} is listed twice with different flags",
                                  file=file, column="good",
                                  params={"good": e.good, "country": e.country})
        seen[(e.good, e.country)] = e
    return tuple(sorted(seen.values()))


def read_dol_csv(data: bytes, *, source_name: str, edition: int,
                 source_file: str | None = None) -> RiskList:
    """The flat CSV (``dol_goods_latest.csv`` shape). With ``source_file`` (the history file
    ``dol_goods_all_files.csv``), only that file's rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError("{source_name} is not UTF-8 text",
                             params={"source_name": source_name}) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InputFileError("{source_name} lacks the columns {missing}",
                             hint="is this the DOL goods CSV (good, sector, country, ...)?",
                             params={"source_name": source_name, "missing": ", ".join(missing)})
    entries = [_entry(raw, file=source_name, row=row)
               for row, raw in enumerate(reader, start=2)
               if source_file is None or raw.get("source_file") == source_file]
    if not entries:
        raise InputFileError("{source_name} holds no List entries",
                             params={"source_name": source_name})
    return RiskList(DOL_NAME, edition, _dedupe(entries, source_name),
                    list_version("dol", edition, entries))


def read_dol_xml(data: bytes, *, source_name: str, edition: int) -> RiskList:
    """DOL's goods XML (the Sweat & Toil app's ``goods_*.xml``), parsed without entities."""
    try:
        root = ElementTree.fromstring(data)
    except Exception as error:  # defusedxml raises several types; all mean "not this file"
        raise InputFileError("{source_name} is not well-formed XML: {error}",
                             params={"source_name": source_name, "error": error}) from None
    if root.tag != "Goods":
        raise InputFileError("{source_name} is not a DOL goods file (root <{tag}>)",
                             params={"source_name": source_name, "tag": root.tag})
    entries = []
    for g, good in enumerate(root.findall("Good"), start=1):
        base = {"good": good.findtext("Good_Name") or "",
                "sector": good.findtext("Good_Sector") or ""}
        for c, country in enumerate(good.findall("Countries/Country"), start=1):
            raw = dict(base)
            raw.update({key: country.findtext(tag) or "" for tag, key in XML_FIELDS.items()})
            entries.append(_entry(raw, file=f"{source_name} <Good> {g} <Country>", row=c))
    if not entries:
        raise InputFileError("{source_name} holds no <Good><Countries><Country> entries",
                             params={"source_name": source_name})
    return RiskList(DOL_NAME, edition, _dedupe(entries, source_name),
                    list_version("dol", edition, entries))


def read_dol(path: Path, *, edition: int) -> RiskList:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError("{path} cannot be read: {strerror}",
                             params={"path": path, "strerror": error.strerror}) from None
    if path.suffix.lower() == ".xml" or data.lstrip()[:1] == b"<":
        return read_dol_xml(data, source_name=path.name, edition=edition)
    return read_dol_csv(data, source_name=path.name, edition=edition)


def _data(name: str) -> bytes:
    return resources.files("ctip.supply").joinpath(f"data/{name}").read_bytes()


@cache
def shipped_list(fmt: str = "csv") -> RiskList:
    """The 2022 edition shipped in the package (public domain; data/SOURCE.md)."""
    if fmt == "xml":
        return read_dol_xml(_data("dol_goods_2022.xml"), source_name="dol_goods_2022.xml",
                            edition=SHIPPED_EDITION)
    return read_dol_csv(_data("dol_goods_2022.csv"), source_name="dol_goods_2022.csv",
                        edition=SHIPPED_EDITION)


@dataclass(frozen=True)
class InputLink:
    good: str
    input: str
    input_country: str | None  # a DOL country name; None: any listed country of the input
    basis: str  # dol-2022-derived | reviewed


@dataclass(frozen=True, eq=False)  # hashed by identity: the screen caches its indexes
class Crosswalk:
    """The reviewed tables: DOL country -> ISO3, good -> HS prefixes and keywords, inputs."""

    countries: dict[str, str]
    hs: dict[str, tuple[str, ...]]
    keywords: dict[str, tuple[str, ...]]
    notes: dict[str, str]
    inputs: tuple[InputLink, ...]
    version: str
    extra_goods: frozenset[str] = field(default_factory=frozenset)  # not List goods

    def iso3(self, dol_country: str | None) -> str | None:
        return self.countries.get(nfc(dol_country)) if dol_country else None


def _rows(data: bytes) -> list[dict[str, str]]:
    return [{k: nfc(v) for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(data.decode("utf-8")))]


@cache
def shipped_crosswalk() -> Crosswalk:
    files = ("dol_countries.csv", "dol_goods_hs.csv", "derived_inputs.csv")
    blobs = {name: _data(name) for name in files}
    digest = hashlib.sha256(b"\0".join(blobs[n] for n in files)).hexdigest()[:12]
    goods = _rows(blobs["dol_goods_hs.csv"])
    return Crosswalk(
        countries={r["dol_name"]: r["iso3"] for r in _rows(blobs["dol_countries.csv"])},
        hs={r["good"]: tuple(r["hs"].split()) for r in goods},
        keywords={r["good"]: tuple(k.strip() for k in r["keywords"].split(";") if k.strip())
                  for r in goods},
        notes={r["good"]: r["note"] for r in goods},
        inputs=tuple(InputLink(r["good"], r["input"], r["input_country"] or None, r["basis"])
                     for r in _rows(blobs["derived_inputs.csv"])),
        version=f"crosswalk:{digest}",
        extra_goods=frozenset(r["good"] for r in goods
                              if r["note"].startswith("not a List good")))


@dataclass(frozen=True)
class Coverage:
    entries: int
    iso_mapped: int
    hs_mapped: int
    unmapped_countries: tuple[str, ...]
    unmapped_goods: tuple[tuple[str, str], ...]  # (good, why)

    @property
    def iso_share(self) -> float:
        return self.iso_mapped / self.entries if self.entries else 1.0

    @property
    def hs_share(self) -> float:
        return self.hs_mapped / self.entries if self.entries else 1.0


def coverage(risk: RiskList, crosswalk: Crosswalk) -> Coverage:
    """Share of List rows mapped to ISO and to HS; everything else listed with the reason."""
    iso = sum(1 for e in risk.entries if crosswalk.iso3(e.country))
    hs = sum(1 for e in risk.entries if crosswalk.hs.get(e.good))
    countries = tuple(sorted({e.country for e in risk.entries if not crosswalk.iso3(e.country)}))
    goods = tuple(sorted(
        (g, crosswalk.notes.get(g) or ("not in the crosswalk" if g not in crosswalk.hs
                                       else "no HS heading"))
        for g in {e.good for e in risk.entries if not crosswalk.hs.get(e.good)}))
    return Coverage(len(risk.entries), iso, hs, countries, goods)
