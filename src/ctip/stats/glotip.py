"""The international level: UNODC's public GLOTIP export, parsed, mapped and aggregated.

``read_glotip(path)`` reads the dataUNODC export (CSV, or the original XLSX whose header is on
row 3) and ``parse_glotip(rows)`` turns it into numbers: "<5" is a suppressed count of 1 to 4
(kept, with bounds 1 and 4), "1,192" is 1192, and anything else is rejected with its reason, so
read == accepted + rejected always. Citizenship categories are mapped to ISO3 with the reviewed
table of ``glotip_map``.

Aggregates follow UNODC's Global Report: regional and global totals are sums of the national
figures of the countries that reported (with how many did), a "<5" adds 1 to the lower and 4 to
the upper bound; flows sum the 'by citizenship' figures from the citizenship's region to the
reporting country's region, own nationals being domestic flows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ctip.domain.countries import country, flow_type
from ctip.errors import InputFileError
from ctip.stats.glotip_map import shipped_mapping

COLUMNS = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
           "Sex", "Age", "Year", "Unit of measurement", "txtVALUE", "Source"]
SUPPRESSED = "<5"
# No country detects a million victims in a year; larger "counts" are pasted cell references.
PLAUSIBLE_MAX = 1_000_000
_NUMBER = re.compile(r"\d{1,3}(,\d{3})+|\d+")
CITIZENSHIP_DIMENSIONS = ("by citizenship", "by country of repatriation")


@dataclass(frozen=True)
class ParsedValue:
    value: int | None
    suppressed: bool
    reason: str | None = None   # set when the value is rejected


def parse_value(text: str | None, year: str | None = None) -> ParsedValue:
    """One txtVALUE: '<5' -> suppressed, '1,192' -> 1192, else a reason for rejecting it."""
    raw = (text or "").strip()
    if not raw:
        return ParsedValue(None, False, "empty value")
    if raw == SUPPRESSED:
        return ParsedValue(None, True)
    if not _NUMBER.fullmatch(raw):
        return ParsedValue(None, False, f"not a count: {raw!r}")
    value = int(raw.replace(",", ""))
    if value > PLAUSIBLE_MAX:
        digits = raw.replace(",", "")
        if year and digits.endswith(str(year)):
            return ParsedValue(None, False, f"{raw} looks like a questionnaire cell reference "
                               f"followed by the year {year}, not a count")
        return ParsedValue(None, False, f"{raw} is not a plausible yearly count "
                           f"(more than {PLAUSIBLE_MAX:,})")
    return ParsedValue(value, False)


@dataclass
class GlotipData:
    """Parsed export: ``accepted`` (one row per figure), ``rejected`` (with reasons), ``read``."""

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    read: int

    @property
    def reconciles(self) -> bool:
        return self.read == len(self.accepted) + len(self.rejected)


def read_glotip(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(source row number, raw row) from the CSV or the original XLSX export."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file", hint="give the dataUNODC GLOTIP export")
    if path.suffix.lower() == ".xlsx":
        yield from _read_xlsx(path)
        return
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "txtVALUE" not in reader.fieldnames:
            raise InputFileError(f"{path}: not a GLOTIP export (no txtVALUE column)",
                                 hint=f"expected the columns {', '.join(COLUMNS)}")
        yield from enumerate(reader, start=2)


def _read_xlsx(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    import openpyxl

    # read_only + reset_dimensions: the export references a drawing part that is missing
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        header: list[str] | None = None
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else str(v) for v in values]
            if header is None:
                if "txtVALUE" in cells:
                    header = cells
                continue
            if not any(cells):
                continue
            yield number, dict(zip(header, cells, strict=False))
        if header is None:
            raise InputFileError(f"{path}: no header row with txtVALUE found",
                                 hint="give the dataUNODC GLOTIP export")
    finally:
        book.close()


def parse_glotip(rows: Iterable[tuple[int, dict[str, str]]],
                 mapping: pd.DataFrame | None = None) -> GlotipData:
    """Numbers, bounds and mapped citizenship for every row; rejects keep the raw row."""
    mapping = shipped_mapping() if mapping is None else mapping
    codes = dict(zip(mapping["category"], mapping["code"], strict=True))
    accepted, rejected, read = [], [], 0
    for number, raw in rows:
        read += 1
        year = (raw.get("Year") or "").strip()
        parsed = parse_value(raw.get("txtVALUE"), year)
        reason = parsed.reason
        dimension = raw.get("Dimension", "")
        category = raw.get("Category", "")
        code = ""
        if reason is None and not year.isdigit():
            reason = f"year is not a number: {year!r}"
        if reason is None and dimension in CITIZENSHIP_DIMENSIONS:
            code = codes.get(category, "")
            if code == "INVALID":
                reason = f"category {category!r} is not a citizenship (a total, number or cell id)"
        if reason is not None:
            rejected.append({"source_row": number, **raw, "reason": reason})
            continue
        accepted.append({
            "source_row": number, "iso3": raw.get("Iso3_code", ""), "country": raw.get("Country"),
            "region": raw.get("Region"), "subregion": raw.get("Subregion"),
            "indicator": raw.get("Indicator"), "dimension": dimension, "category": category,
            "citizenship": code, "sex": raw.get("Sex"), "age": raw.get("Age"), "year": int(year),
            "value": parsed.value, "suppressed": parsed.suppressed,
            "lower": 1 if parsed.suppressed else parsed.value,
            "upper": 4 if parsed.suppressed else parsed.value,
        })
    acc = pd.DataFrame(accepted)
    if not acc.empty:
        for column in ("value", "lower", "upper"):
            acc[column] = acc[column].astype("Int64")
    return GlotipData(acc, pd.DataFrame(rejected), read)


def load_glotip(path: Path, mapping: pd.DataFrame | None = None) -> GlotipData:
    return parse_glotip(read_glotip(path), mapping)


VICTIMS = "Detected trafficking victims"


def victim_totals(data: GlotipData) -> pd.DataFrame:
    """National totals of detected victims (Total x Total x Total) per country and year."""
    a = data.accepted
    return a[(a["indicator"] == VICTIMS) & (a["dimension"] == "Total") & (a["sex"] == "Total")
             & (a["age"] == "Total")].copy()


def regional_aggregates(data: GlotipData, level: str = "region") -> pd.DataFrame:
    """Sum of national totals per region (or subregion) and year, and for the world.

    Columns: area, year, countries (reporting), known (sum of exact figures), suppressed
    (how many "<5"), lower, upper.
    """
    t = victim_totals(data)
    t = t.assign(known=t["value"].fillna(0))
    frames = []
    for area, group in ((level, t), ("world", t.assign(world="World"))):
        g = group.groupby([area, "year"]).agg(
            countries=("iso3", "nunique"), known=("known", "sum"),
            suppressed=("suppressed", "sum"), lower=("lower", "sum"), upper=("upper", "sum"),
        ).reset_index().rename(columns={area: "area"})
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    for column in ("known", "lower", "upper", "suppressed", "countries"):
        out[column] = out[column].astype("int64")
    return out.sort_values(["area", "year"]).reset_index(drop=True)


def victim_group_shares(data: GlotipData, level: str = "region") -> pd.DataFrame:
    """Shares of women, men, girls and boys among victims with sex and age, per area and year
    (UNODC's headline profile); from exact figures only, with the number of countries."""
    a = data.accepted
    a = a[(a["indicator"] == VICTIMS) & (a["dimension"] == "Total")
          & a["sex"].isin(["Female", "Male"]) & a["age"].isin(["0 to 17 years",
                                                               "18 years or over"])].copy()
    groups = {("Female", "18 years or over"): "women", ("Male", "18 years or over"): "men",
              ("Female", "0 to 17 years"): "girls", ("Male", "0 to 17 years"): "boys"}
    a["group"] = [groups[(s, g)] for s, g in zip(a["sex"], a["age"], strict=True)]
    a["known"] = a["value"].fillna(0).astype("int64")
    frames = []
    for area, group in ((level, a), ("world", a.assign(world="World"))):
        g = group.groupby([area, "year", "group"])["known"].sum().reset_index()
        g = g.rename(columns={area: "area"})
        g["share"] = g["known"] / g.groupby(["area", "year"])["known"].transform("sum")
        frames.append(g)
    return pd.concat(frames, ignore_index=True)


def _area(iso3: str, level: str) -> str:
    try:
        c = country(iso3)
    except LookupError:
        return "unknown"
    return (c.region if level == "region" else c.subregion) or "unknown"


def flow_matrix(data: GlotipData, *, level: str = "region",
                year: int | None = None) -> pd.DataFrame:
    """Victims by citizenship area (origin) x area of the detecting country (destination).

    From 'Detected trafficking victims / by citizenship' (Sex Total, Age Total). NATIONALS counts
    as the detecting country itself (domestic). Categories that name no country (UNKNOWN, OTHER,
    FOREIGN, ...) become origin 'unknown'; REGION:<name> keeps the region. Long frame with
    origin, destination, flow_type, known, suppressed, lower, upper.
    """
    a = data.accepted
    a = a[(a["indicator"] == VICTIMS) & (a["dimension"] == "by citizenship")
          & (a["sex"] == "Total") & (a["age"] == "Total")].copy()
    if year is not None:
        a = a[a["year"] == year]
    origin_iso = a["citizenship"].where(a["citizenship"] != "NATIONALS", a["iso3"])
    a["origin"] = [
        c.split(":", 1)[1] if c.startswith("REGION:") else
        (_area(c, level) if len(c) == 3 and c.isupper() else "unknown")
        for c in origin_iso]
    a["destination"] = [_area(c, level) for c in a["iso3"]]
    a["flow_type"] = [flow_type(o, d) if len(o) == 3 and o.isupper() else "unknown"
                      for o, d in zip(origin_iso, a["iso3"], strict=True)]
    a["known"] = a["value"].fillna(0)
    g = a.groupby(["origin", "destination", "flow_type"]).agg(
        known=("known", "sum"), suppressed=("suppressed", "sum"), lower=("lower", "sum"),
        upper=("upper", "sum")).reset_index()
    for column in ("known", "suppressed", "lower", "upper"):
        g[column] = g[column].astype("int64")
    return g.sort_values(["destination", "origin", "flow_type"]).reset_index(drop=True)


def flow_type_shares(data: GlotipData, *, year: int | None = None) -> pd.DataFrame:
    """Share of domestic / subregional / intraregional / transregional victims per detection
    region (UNODC's flow chart), from exact figures of known flows."""
    m = flow_matrix(data, level="region", year=year)
    m = m[m["flow_type"] != "unknown"]
    g = m.groupby(["destination", "flow_type"])["known"].sum().reset_index()
    g["share"] = g["known"] / g.groupby("destination")["known"].transform("sum")
    return g
