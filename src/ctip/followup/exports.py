"""Machine outputs of an assessment: JSON, and SDMX-CSV rows for its statistical indicators.

SDMX-CSV (version 1 layout, as ``publish/exports/sdmx.py`` writes it, stdlib csv): one row per
indicator whose accepted value is a number (shares, counts, amounts, days), with the country's
M49 code where ctip knows it, the year of the evidence's as-of date (else the cycle's last year),
the unit, and the indicator's crosswalk codes (SDG, GSI) as a comment attribute. Yes/no
indicators and ratings are not statistics and stay in the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ctip.domain.countries import country, normalise_country
from ctip.followup.model import Framework, canonical_json
from ctip.followup.rules import parse_number

STRUCTURE_ID = "CTIP:FOLLOWUP_INDICATORS(1.0)"
HEADER = ("STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "REF_AREA", "INDICATOR", "TIME_PERIOD",
          "OBS_VALUE", "UNIT_MEASURE", "OBS_STATUS", "CROSSWALK", "EVIDENCE_GRADE")
UNIT_CODES = {"%": "PT", "count": "NUMBER", "amount": "CURRENCY", "days": "DAYS",
              "hours": "HOURS", "rate": "RATE"}


def to_json(result: Mapping[str, Any]) -> str:
    return canonical_json(result) + "\n"


def _area(name: str) -> str:
    iso3 = normalise_country(name)
    if iso3 is None:
        return name
    try:
        return country(iso3).m49 or iso3
    except LookupError:
        return iso3


def sdmx_rows(result: Mapping[str, Any], framework: Framework,
              evidence: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    as_of = {e["evidence_id"]: e.get("as_of", "") for e in evidence}
    period_end = str(result.get("cycle", {}).get("period_end", ""))[:4]
    area = _area(str(result.get("country", "")))
    rows = []
    for code, obs in sorted(result["indicators"].items()):
        indicator = framework.indicators.get(code)
        number = parse_number(obs["value"]) if obs["value"] else None
        if indicator is None or number is None or indicator.unit.startswith("y/n"):
            continue
        used = obs["evidence"][0] if obs["evidence"] else ""
        year = (as_of.get(used) or "")[:4] or period_end
        unit = UNIT_CODES.get(indicator.unit.split(",")[0].strip(), "NUMBER")
        rows.append({"STRUCTURE": "datastructure", "STRUCTURE_ID": STRUCTURE_ID, "ACTION": "I",
                     "FREQ": "A", "REF_AREA": area, "INDICATOR": code, "TIME_PERIOD": year,
                     "OBS_VALUE": f"{number:g}", "UNIT_MEASURE": unit,
                     "OBS_STATUS": "E" if obs.get("stale") else "A",
                     "CROSSWALK": "; ".join(indicator.crosswalk), "EVIDENCE_GRADE": obs["grade"]})
    return rows
