"""k-anonymous victim microdata in the CTDC layout (k = 11 by default, as CTDC released).

Why by hand: pycanon/anjana pin old numpy/pandas/scipy (LINKAGE-AND-PRIVACY.md 5.1), ARX is Java.
This is full-domain generalisation over a small lattice (every combination of levels is tried,
as in Incognito/Flash without the pruning, affordable with 5 quasi-identifiers), then local
suppression: records left in an equivalence class smaller than k are not released.

Quasi-identifiers and their hierarchies (level 0 = most detailed):
- yearOfRegistration: year -> 5-year period -> "*"
- gender: Woman/Man/... -> "*"
- ageBroad: CTDC ageBroad band -> "0-17"/"18+" -> "*"
- citizenship, CountryOfExploitation: ISO3 -> UN M49 subregion -> region -> "*"
"unknown" stays "unknown" at every level but "*". The chosen node is the least generalised one
(sum of level / top level over the QIs) whose suppression stays within ``max_suppression``.

Sensitive attributes (not generalised): forms of exploitation, means of control, labour and
sexual-exploitation types, recruiter relation. The release states l-diversity (fewest distinct
values in any class) for the exploitation and means-of-control combinations; ``min_l`` suppresses
classes below it. Homogeneity and background-knowledge limits: docs/methods/disclosure.md.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ctip.domain.countries import country
from ctip.domain.derive import UNKNOWN, ctdc_age_broad
from ctip.errors import DisclosureError
from ctip.publish.ctdc import CTDC_COLUMNS, ctdc_flags, gender, is_missing

QUASI_IDENTIFIERS = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
)
LEVEL_NAMES = {
    "yearOfRegistration": ("year", "5-year period", "suppressed"),
    "gender": ("gender", "suppressed"),
    "ageBroad": ("CTDC ageBroad", "minor/adult", "suppressed"),
    "citizenship": ("ISO3", "M49 subregion", "M49 region", "suppressed"),
    "CountryOfExploitation": ("ISO3", "M49 subregion", "M49 region", "suppressed"),
}
SENSITIVE = {"forms of exploitation": "exploitation_forms", "means of control": "means_of_control"}
STAR = "*"
_USED = (
    "consent_statistical_use",
    "consent_withdrawn",
    "identification_year",
    "sex",
    "age",
    "citizenship",
    "countries_of_exploitation",
    "country_of_detection",
    "exploitation_forms",
    "means_of_control",
    "labour_sector_isic",
    "sexual_exploitation_type",
    "recruiter_relationship",
)


@dataclass(frozen=True)
class KAnonRelease:
    """The released file and what it guarantees."""

    frame: pd.DataFrame  # CTDC columns, released records only
    k: int
    levels: dict[str, str]  # QI -> generalisation level used
    records_in: int
    records_released: int
    smallest_class: int
    l_diversity: dict[str, int]  # sensitive field -> l (fewest distinct values in a class)
    max_suppression: float

    @property
    def suppressed_share(self) -> float:
        return 0.0 if self.records_in == 0 else 1 - self.records_released / self.records_in

    def describe(self) -> dict[str, Any]:
        return {
            "method": "full-domain generalisation + local (record) suppression",
            "k": self.k,
            "quasi_identifiers": list(QUASI_IDENTIFIERS),
            "levels": self.levels,
            "records_in": self.records_in,
            "records_released": self.records_released,
            "suppressed_share": round(self.suppressed_share, 4),
            "smallest_class": self.smallest_class,
            "l_diversity": self.l_diversity,
            "max_suppression": self.max_suppression,
        }


def _country_levels(iso3: Any) -> tuple[str, str, str, str]:
    code = str(iso3) if iso3 is not None and not pd.isna(iso3) else UNKNOWN
    return _country_levels_of(code)


@lru_cache(maxsize=4096)
def _country_levels_of(code: str) -> tuple[str, str, str, str]:
    try:
        c = country(code)
    except LookupError:
        return (UNKNOWN, UNKNOWN, UNKNOWN, STAR)
    return (c.iso3, c.subregion or UNKNOWN, c.region or UNKNOWN, STAR)


def _year_levels(year: Any) -> tuple[str, str, str]:
    if year is None or pd.isna(year):
        return (UNKNOWN, UNKNOWN, STAR)
    y = int(year)
    start = y - y % 5
    return (str(y), f"{start}-{start + 4}", STAR)


def _age_levels(age: Any) -> tuple[str, str, str]:
    if age is None or pd.isna(age):
        return (UNKNOWN, UNKNOWN, STAR)
    a = int(age)
    return (ctdc_age_broad(a), "0-17" if a < 18 else "18+", STAR)


def _exploitation_country(row: dict[str, Any]) -> Any:
    """CTDC's CountryOfExploitation, with its proxy: the country of detection."""
    places: Any = row.get("countries_of_exploitation")
    if not is_missing(places) and len(places):
        return list(places)[0]
    return row.get("country_of_detection")


def _combination(value: Any) -> str:
    if is_missing(value):
        return UNKNOWN
    return ";".join(sorted(str(v) for v in value)) or "none"


def kanonymise(
    victims: pd.DataFrame, *, k: int, max_suppression: float = 0.1, min_l: int = 1
) -> KAnonRelease:
    """Release ``victims`` (analytic-view rows) as k-anonymous CTDC-layout microdata.

    Records whose consent to statistical use is refused or withdrawn are left out first.
    """
    if k < 2:
        raise DisclosureError("k must be at least 2, got {k}",
                              params={"k": k})
    columns = [c for c in _USED if c in victims.columns]
    rows = [
        dict(zip(columns, values, strict=True))
        for values in zip(*(victims[c].tolist() for c in columns), strict=True)
    ]
    rows = [
        r
        for r in rows
        if (is_missing(r.get("consent_statistical_use")) or bool(r.get("consent_statistical_use")))
        and (is_missing(r.get("consent_withdrawn")) or not bool(r.get("consent_withdrawn")))
    ]
    n = len(rows)
    hierarchy: dict[str, list[tuple[str, ...]]] = {
        "yearOfRegistration": [_year_levels(r.get("identification_year")) for r in rows],
        "gender": [(gender(r.get("sex")) or UNKNOWN, STAR) for r in rows],
        "ageBroad": [_age_levels(r.get("age")) for r in rows],
        "citizenship": [_country_levels(r.get("citizenship")) for r in rows],
        "CountryOfExploitation": [_country_levels(_exploitation_country(r)) for r in rows],
    }
    codes = {}  # QI -> (levels x n) integer codes
    for qi in QUASI_IDENTIFIERS:
        depth = len(LEVEL_NAMES[qi])
        codes[qi] = (
            np.vstack(
                [
                    pd.factorize(pd.Series([h[level] for h in hierarchy[qi]], dtype=object))[0]
                    for level in range(depth)
                ]
            )
            if n
            else np.zeros((depth, 0), dtype=np.int64)
        )
    node = _choose_node(codes, n, k, max_suppression)
    keep = _class_sizes(codes, node, n) >= k
    sensitive = {
        name: np.array([_combination(r.get(col)) for r in rows], dtype=object)
        for name, col in SENSITIVE.items()
    }
    class_ids = _class_ids(codes, node, n)
    if min_l > 1 and n:
        keep &= _diverse_enough(class_ids, sensitive, keep, min_l)
    released_rows = [r for r, kept in zip(rows, keep, strict=True) if kept]
    out = {
        qi: [hierarchy[qi][i][node[qi]] for i in range(n) if keep[i]] for qi in QUASI_IDENTIFIERS
    }
    frame = pd.DataFrame(out, columns=list(QUASI_IDENTIFIERS))
    frame = frame.replace({UNKNOWN: ""})
    frame.insert(5, "traffickMonths", "")
    flags = pd.DataFrame([ctdc_flags(r) for r in released_rows], columns=list(CTDC_COLUMNS[6:]))
    frame = pd.concat([frame.reset_index(drop=True), flags], axis=1)[list(CTDC_COLUMNS)]
    sizes = np.bincount(class_ids[keep]) if keep.any() else np.array([0])
    l_div = {name: _l_of(class_ids[keep], values[keep]) for name, values in sensitive.items()}
    return KAnonRelease(
        frame=frame,
        k=k,
        levels={qi: LEVEL_NAMES[qi][node[qi]] for qi in QUASI_IDENTIFIERS},
        records_in=n,
        records_released=int(keep.sum()),
        smallest_class=int(sizes[sizes > 0].min()) if keep.any() else 0,
        l_diversity=l_div,
        max_suppression=max_suppression,
    )


def _class_ids(codes: dict[str, np.ndarray], node: dict[str, int], n: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    for qi in QUASI_IDENTIFIERS:  # mixed-radix key: one integer per combination
        column = codes[qi][node[qi]]
        key = key * (int(column.max()) + 1) + column
    return np.unique(key, return_inverse=True)[1].reshape(-1)


def _class_sizes(codes: dict[str, np.ndarray], node: dict[str, int], n: int) -> np.ndarray:
    ids = _class_ids(codes, node, n)
    return np.bincount(ids)[ids] if n else np.zeros(0, dtype=np.int64)


def _choose_node(
    codes: dict[str, np.ndarray], n: int, k: int, max_suppression: float
) -> dict[str, int]:
    """The least generalised lattice node within the suppression limit (ties: less suppression)."""
    depths = [len(LEVEL_NAMES[qi]) for qi in QUASI_IDENTIFIERS]
    best: tuple[float, float, tuple[int, ...]] | None = None
    fallback: tuple[float, float, tuple[int, ...]] | None = None
    for levels in itertools.product(*[range(d) for d in depths]):
        node = dict(zip(QUASI_IDENTIFIERS, levels, strict=True))
        loss = sum(level / (d - 1) for level, d in zip(levels, depths, strict=True))
        share = float((_class_sizes(codes, node, n) < k).mean()) if n else 0.0
        candidate = (loss, share, levels)
        if share <= max_suppression and (best is None or candidate[:2] < best[:2]):
            best = candidate
        if fallback is None or (share, loss) < (fallback[1], fallback[0]):
            fallback = candidate
    chosen = best or fallback
    assert chosen is not None
    return dict(zip(QUASI_IDENTIFIERS, chosen[2], strict=True))


def _diverse_enough(
    class_ids: np.ndarray, sensitive: dict[str, np.ndarray], keep: np.ndarray, min_l: int
) -> np.ndarray:
    ok = np.ones(len(class_ids), dtype=bool)
    for values in sensitive.values():
        frame = pd.DataFrame({"c": class_ids, "v": values})
        distinct = frame.groupby("c")["v"].nunique()
        ok &= distinct.reindex(class_ids).to_numpy() >= min_l
    return ok


def _l_of(class_ids: np.ndarray, values: np.ndarray) -> int:
    if len(class_ids) == 0:
        return 0
    return int(pd.DataFrame({"c": class_ids, "v": values}).groupby("c")["v"].nunique().min())
