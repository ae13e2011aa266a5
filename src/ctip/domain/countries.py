"""Countries: ISO 3166-1 alpha-3 codes with their UN M49 regions, and the flows between them.

The data is ``codelists/countries.json``, built by ``scripts/build_countries.py`` from pycountry
and UN M49 region names (domain/ may use the standard library only, so the list is shipped as
data). Every country field in a case record is ISO3; ``normalise_country`` turns what agencies
actually type (alpha-2, numeric, English names, common aliases such as "UK" or "Ivory Coast")
into ISO3. The special tokens ``stateless`` and ``unknown`` are not countries: callers handle them.

GLOTIP flow types compare the country of citizenship with the country of detection:
``domestic`` (same country), ``subregional`` (same M49 subregion), ``intraregional`` (same M49
region, different subregion), ``transregional`` (different regions), ``unknown`` otherwise.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Country:
    iso3: str
    iso2: str
    m49: str | None  # three-digit UN M49 / ISO numeric code; None for Kosovo (XKX)
    name: str
    region: str | None  # UN M49 region, e.g. "Europe"; None for Antarctica
    subregion: str | None  # e.g. "Southern Europe", "Sub-Saharan Africa"
    intermediate_region: str | None = None  # e.g. "Western Africa", "Caribbean"


def _key(text: str) -> str:
    """Case-, accent- and punctuation-free form of a name ("Côte d'Ivoire" == "cote divoire")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and "))
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if ch.isalnum():
            kept.append(ch.casefold())
        elif ch in " ,-_/()":
            kept.append(" ")
        # apostrophes and full stops vanish: "U.K." -> "uk", "d'Ivoire" -> "divoire"
    return " ".join("".join(kept).split())


@cache
def _document() -> dict[str, Any]:
    text = resources.files("ctip.domain").joinpath("codelists/countries.json").read_text("utf-8")
    return json.loads(text)


@cache
def _tables() -> tuple[dict[str, Country], dict[str, str]]:
    by_iso3: dict[str, Country] = {}
    lookup: dict[str, str] = {}
    for e in _document()["countries"]:
        c = Country(
            e["iso3"],
            e["iso2"],
            e["m49"],
            e["name"],
            e["region"],
            e["subregion"],
            e["intermediate_region"],
        )
        by_iso3[c.iso3] = c
    # Codes first, so a name can never shadow a code; then names, then aliases.
    for c in by_iso3.values():
        lookup[c.iso3.casefold()] = c.iso3
        lookup[c.iso2.casefold()] = c.iso3
        if c.m49:
            lookup[c.m49] = c.iso3
    for e in _document()["countries"]:
        for name in (e["name"], *e["aliases"]):
            lookup.setdefault(_key(name), e["iso3"])
    return by_iso3, lookup


def code_list_version() -> str:
    return str(_document()["version"])


def country(iso3: str) -> Country:
    """The country with this ISO3 code; LookupError names the code when it is not one."""
    try:
        return _tables()[0][iso3]
    except KeyError:
        raise LookupError(f"{iso3!r} is not an ISO 3166-1 alpha-3 country code") from None


def all_countries() -> tuple[Country, ...]:
    return tuple(_tables()[0].values())


@cache
def normalise_country(text: str | None) -> str | None:
    """ISO3, ISO2, ISO numeric (with or without leading zeros), English name or alias -> ISO3.

    None when the text is not recognised (including 'stateless' and 'unknown', which callers
    handle). Cached: imports call this for every country cell.
    """
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    _, lookup = _tables()
    if stripped.isdigit() and len(stripped) <= 3:
        return lookup.get(stripped.zfill(3))
    found = lookup.get(stripped.casefold())
    if found is not None:
        return found
    return lookup.get(_key(stripped))


def flow_type(citizenship_iso3: str | None, detection_iso3: str | None) -> str:
    """GLOTIP flow type between a victim's citizenship and the country of detection (M49 areas)."""
    by_iso3, _ = _tables()
    origin = by_iso3.get(citizenship_iso3 or "")
    destination = by_iso3.get(detection_iso3 or "")
    if origin is None or destination is None:
        return "unknown"
    if origin.iso3 == destination.iso3:
        return "domestic"
    if origin.region is None or destination.region is None:
        return "unknown"
    if origin.subregion == destination.subregion:
        return "subregional"
    if origin.region == destination.region:
        return "intraregional"
    return "transregional"
