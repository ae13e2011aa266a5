"""Build src/ctip/domain/codelists/countries.json (run when a source changes; output committed).

Why a script: domain/ may import only the standard library, so the country list is turned into
data here, from pycountry (ISO 3166-1: alpha-3, alpha-2, numeric = UN M49 country code, names)
plus UN M49 region / subregion / intermediate-region names taken from

1. the dataUNODC GLOTIP export (``Region``/``Subregion`` columns; UN M49 names as used by UNODC),
2. the CTDC Victim-Perpetrator dictionary, sheet ``Region`` (``UNRegion``/``UNSubRegion``; its
   sub-region is M49's *intermediate* region inside Sub-Saharan Africa and Latin America),
3. hand-filled UN M49 facts for the few territories neither lists (``HAND`` below), and Kosovo.

Usage: python scripts/build_countries.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import openpyxl
import pycountry

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "ctip" / "domain" / "codelists" / "countries.json"

# M49 intermediate regions -> the sub-region that contains them.
INTERMEDIATE = {
    "Eastern Africa": "Sub-Saharan Africa",
    "Middle Africa": "Sub-Saharan Africa",
    "Southern Africa": "Sub-Saharan Africa",
    "Western Africa": "Sub-Saharan Africa",
    "Caribbean": "Latin America and the Caribbean",
    "Central America": "Latin America and the Caribbean",
    "South America": "Latin America and the Caribbean",
    "Channel Islands": "Northern Europe",
}
SPELLING = {"South-Eastern Asia": "South-eastern Asia"}

# UN M49 facts filled by hand: (region, subregion, intermediate region).
HAND: dict[str, tuple[str | None, str | None, str | None]] = {
    "ALA": ("Europe", "Northern Europe", None),
    "GGY": ("Europe", "Northern Europe", "Channel Islands"),
    "JEY": (
        "Europe",
        "Northern Europe",
        "Channel Islands",
    ),  # CTDC sheet says Eastern Europe: wrong
    "IMN": ("Europe", "Northern Europe", None),
    "BES": ("Americas", "Latin America and the Caribbean", "Caribbean"),
    "BLM": ("Americas", "Latin America and the Caribbean", "Caribbean"),
    "MAF": ("Americas", "Latin America and the Caribbean", "Caribbean"),
    "SXM": ("Americas", "Latin America and the Caribbean", "Caribbean"),
    "BVT": ("Americas", "Latin America and the Caribbean", "South America"),
    "SGS": ("Americas", "Latin America and the Caribbean", "South America"),
    "CCK": ("Oceania", "Australia and New Zealand", None),
    "CXR": ("Oceania", "Australia and New Zealand", None),
    "HMD": ("Oceania", "Australia and New Zealand", None),
    "NFK": ("Oceania", "Australia and New Zealand", None),
    "IOT": ("Africa", "Sub-Saharan Africa", "Eastern Africa"),
    "ATF": ("Africa", "Sub-Saharan Africa", "Eastern Africa"),
    "UMI": ("Oceania", "Micronesia", None),
    "ATA": (None, None, None),  # M49 assigns Antarctica to no region
    # Kosovo (UNSCR 1244): not in ISO 3166-1 or M49; UNODC reports it in Southern Europe.
    "XKX": ("Europe", "Southern Europe", None),
}

# Common names people type that pycountry lacks (matched case- and accent-insensitively).
ALIASES: dict[str, list[str]] = {
    "GBR": [
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ],
    "USA": ["US", "U.S.", "U.S.A.", "United States", "America", "United States of America"],
    "RUS": ["Russia"],
    "KOR": ["South Korea", "Korea, South", "Republic of Korea", "Korea (South)"],
    "PRK": ["North Korea", "Korea, North", "DPRK", "Korea (North)"],
    "IRN": ["Iran"],
    "SYR": ["Syria"],
    "VNM": ["Vietnam", "Viet Nam"],
    "LAO": ["Laos", "Lao PDR"],
    "BOL": ["Bolivia"],
    "VEN": ["Venezuela"],
    "TZA": ["Tanzania"],
    "MDA": ["Moldova", "Republic of Moldova"],
    "CZE": ["Czech Republic"],
    "CIV": ["Ivory Coast", "Cote d'Ivoire"],
    "CPV": ["Cape Verde"],
    "SWZ": ["Swaziland"],
    "MMR": ["Burma"],
    "MKD": ["Macedonia", "North Macedonia", "FYROM"],
    "COD": [
        "DR Congo",
        "DRC",
        "Congo-Kinshasa",
        "Democratic Republic of Congo",
        "Congo, Democratic Republic",
        "Congo (Kinshasa)",
        "Zaire",
    ],
    "COG": ["Congo-Brazzaville", "Republic of Congo", "Congo (Brazzaville)", "Congo, Republic"],
    "TUR": ["Turkey", "Turkiye"],
    "NLD": ["Holland", "The Netherlands"],
    "PSE": ["Palestine", "State of Palestine", "Occupied Palestinian Territory"],
    "FSM": ["Micronesia"],
    "BRN": ["Brunei"],
    "TWN": ["Taiwan"],
    "VAT": ["Vatican", "Vatican City", "Holy See"],
    "TLS": ["East Timor"],
    "MAC": ["Macau", "Macao"],
    "HKG": ["Hong Kong"],
    "BHS": ["Bahamas", "The Bahamas"],
    "GMB": ["Gambia", "The Gambia"],
    "ARE": ["UAE"],
    "XKX": ["Kosovo", "Kosovo under UNSCR 1244", "KOS"],
    "SRB": ["Serbia"],
    "SSD": ["South Sudan"],
    "KGZ": ["Kyrgyzstan"],
}


def _sheet(shared: Path) -> dict[str, tuple[str, str]]:
    path = shared / "ctdc-vp-synthetic" / "CTDC_VPsynthetic_dict_20221201.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    out: dict[str, tuple[str, str]] = {}
    names: dict[str, set[str]] = {}
    for row in list(wb["Region"].iter_rows(values_only=True))[1:]:
        iso3, name, descr, region, sub = row[1], row[2], row[3], row[4], row[5]
        if not iso3 or iso3 == "NULL" or region in (None, "", "NULL"):
            continue
        out[iso3] = (region, sub)
        names.setdefault(iso3, set()).update(n for n in (name, descr) if n)
    _sheet.names = names  # type: ignore[attr-defined]
    return out


def _glotip(shared: Path) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    regions: dict[str, tuple[str, str]] = {}
    names: dict[str, str] = {}
    with open(shared / "unodc-glotip" / "data_glotip.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            iso3 = row["Iso3_code"]
            if row["Region"] and row["Subregion"]:
                regions[iso3] = (row["Region"], row["Subregion"])
            names[iso3] = row["Country"]
    return regions, names


def build(shared: Path) -> dict[str, object]:
    sheet = _sheet(shared)
    glotip, glotip_names = _glotip(shared)
    sheet_names: dict[str, set[str]] = _sheet.names  # type: ignore[attr-defined]
    entries = []
    records = [(c.alpha_3, c.alpha_2, c.numeric, c.name, c) for c in pycountry.countries]
    records.append(("XKX", "XK", None, "Kosovo", None))
    conflicts = []
    # An alias another country owns (by its name or our explicit ALIASES) is never borrowed:
    # the CTDC sheet, for one, lists "Kosovo" as a description of Serbia.
    owner = {r[3].casefold(): r[0] for r in records}
    owner.update({a.casefold(): iso for iso, names in ALIASES.items() for a in names})
    for iso3, iso2, numeric, name, pc in sorted(records, key=lambda r: r[0]):
        region = subregion = intermediate = None
        if iso3 in HAND:
            region, subregion, intermediate = HAND[iso3]
        elif iso3 in sheet:
            region, sub = sheet[iso3]
            sub = SPELLING.get(sub, sub)
            if sub in INTERMEDIATE:
                subregion, intermediate = INTERMEDIATE[sub], sub
            else:
                subregion = sub
        if iso3 in glotip and iso3 not in HAND:
            g_region, g_sub = glotip[iso3]
            if (g_region, g_sub) != (region, subregion):
                conflicts.append((iso3, (region, subregion), (g_region, g_sub)))
                region, subregion = g_region, g_sub  # UNODC's own M49 names win
        if region is None and iso3 != "ATA":
            raise SystemExit(f"no M49 region for {iso3} {name}: add it to HAND")
        aliases = set(ALIASES.get(iso3, []))
        if pc is not None:
            aliases.update(
                n
                for n in (getattr(pc, "official_name", None), getattr(pc, "common_name", None))
                if n
            )
        aliases.update(sheet_names.get(iso3, set()))
        if iso3 in glotip_names:
            aliases.add(glotip_names[iso3])
        aliases.discard(name)
        aliases = {a for a in aliases if owner.get(a.casefold(), iso3) == iso3}
        entries.append(
            {
                "iso3": iso3,
                "iso2": iso2,
                "m49": numeric,
                "name": name,
                "region": region,
                "subregion": subregion,
                "intermediate_region": intermediate,
                "aliases": sorted(aliases),
            }
        )
    for c in conflicts:
        print("region differs between CTDC sheet and GLOTIP (GLOTIP kept):", c)
    return {
        "version": f"iso3166-pycountry-{pycountry.__version__}",
        "sources": [
            "ISO 3166-1 codes and names: pycountry " + pycountry.__version__,
            "UN M49 region/subregion: dataUNODC GLOTIP export 2025-04-14 "
            "(Region, Subregion columns)",
            "UN M49 intermediate regions and countries missing from GLOTIP: CTDC VP synthetic "
            "dictionary 2022-12-01, sheet Region (UNRegion, UNSubRegion)",
            "Filled by hand from UN M49 (scripts/build_countries.py HAND): ALA BES BLM GGY IMN "
            "JEY MAF SXM BVT SGS CCK CXR HMD NFK IOT ATF UMI ATA; Kosovo XKX (not in ISO "
            "3166-1/M49; user-assigned code XKX, Southern Europe as UNODC reports it, "
            "no M49 number)",
            "Aliases: pycountry official/common names, CTDC and GLOTIP country names, "
            "common English names",
        ],
        "countries": entries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    doc = build(args.shared)
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(doc['countries'])} countries to {OUT}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
