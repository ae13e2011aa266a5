"""One small builder for every count table: dimensions are named SQL expressions.

Why a builder and not one hand-written query per table: the national tables are all "count victims
(or perpetrators) by some of these dimensions", and users ask for other cuts with ``--by``. Each
dimension is defined once, as a plain SQL expression, and every query is plain SQL (CASE, COALESCE,
UNNEST, GROUP BY CUBE, ARRAY_CONTAINS) that SQLGlot transpiles to Spark SQL unchanged in meaning
(tests/stats/test_stats_sql.py checks every table). Unknowns are never dropped: a missing value is
counted under 'unknown'.

The reference table the dimensions need (countries with their UN M49 areas) is created as a TEMP
table in the caller's DuckDB connection; nothing here opens a file or a database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product

import duckdb
import pandas as pd

from ctip.domain.derive import DEFAULT_ROLLUP, RollupRule, unodc_form
from ctip.domain.vocabulary import code_list
from ctip.errors import ValidationError

UNKNOWN = "unknown"
TOTAL = "total"
COUNTRIES_TABLE = "ctip_countries"

_COLUMN = re.compile(r"\bv\.(\w+)")

# Cells in a completed table (product of observed levels) above which we do not fill zeros.
MAX_COMPLETED_CELLS = 200_000


@dataclass(frozen=True)
class Dimension:
    """A named breakdown: its SQL expression (alias ``v`` = the analytic row) and what it needs."""

    name: str
    sql: str
    label: str
    needs: tuple[str, ...] = ()   # 'countries', 'detection_countries'
    order: tuple[str, ...] = ()   # preferred order of levels (others follow, sorted)
    pre: tuple[tuple[str, str], ...] = ()  # (name, SQL) computed per row before grouping


def _unknown(expr: str) -> str:
    return f"COALESCE({expr}, '{UNKNOWN}')"


def rollup_sql(rule: RollupRule = DEFAULT_ROLLUP, forms: str = "v.exploitation_forms") -> str:
    """SQL for ``derive.primary_form(forms, rule)``: one UNODC category per victim.

    Built from the code list and the rule (so it cannot drift from domain.derive), with only
    ARRAY_CONTAINS and CASE: tests check it equals ``primary_form`` on random form lists.
    """
    fine = code_list("exploitation_form").codes
    by_category: dict[str, list[str]] = {}
    for code in fine:
        by_category.setdefault(unodc_form(code, rule), []).append(code)

    def has(category: str) -> str:
        codes = by_category.get(category, [])
        if not codes:
            return "FALSE"
        return "(" + " OR ".join(f"ARRAY_CONTAINS({forms}, '{c}')" for c in codes) + ")"

    order = list(rule.precedence) + sorted(c for c in by_category if c not in rule.precedence)
    whens = [f"WHEN {forms} IS NULL OR ARRAY_LENGTH({forms}) = 0 THEN '{UNKNOWN}'"]
    if rule.mixed:
        whens.append(f"WHEN {has('sexual_exploitation')} AND {has('forced_labour')} THEN 'mixed'")
    whens += [f"WHEN {has(c)} THEN '{c}'" for c in order if c in by_category]
    # a fine code outside the code list rolls up to 'other', as derive does
    return "CASE " + " ".join(whens) + " ELSE 'other' END"


def rollup_from_primary_sql(rule: RollupRule) -> str | None:
    """A cheap equivalent of ``rollup_sql(rule)`` from the stored ``primary_form`` (which is the
    default rule), when the rule differs from the default only in how 'mixed' is counted; None
    otherwise. With mixed=False and the default precedence a mixed victim goes to the first of
    the precedence, which contains both sexual exploitation and forced labour."""
    default = DEFAULT_ROLLUP
    if (rule.begging_and_criminality_as_labour != default.begging_and_criminality_as_labour
            or rule.precedence != default.precedence):
        return None
    if rule.mixed:
        return _unknown("v.primary_form")
    first = next(c for c in rule.precedence if c in {"sexual_exploitation", "forced_labour"})
    return (f"CASE WHEN v.primary_form = 'mixed' THEN '{first}' "
            f"ELSE {_unknown('v.primary_form')} END")


def _year(expr: str) -> str:
    return f"COALESCE(CAST({expr} AS VARCHAR), '{UNKNOWN}')"


SEX_ORDER = ("female", "male", "other", UNKNOWN)
GROUP_ORDER = ("women", "girls", "men", "boys", UNKNOWN)
AGE_ORDER = ("0-17", "18+", UNKNOWN)
FLOW_ORDER = ("domestic", "subregional", "intraregional", "transregional", UNKNOWN)

# Age bands for the age-sex pyramid (CTDC ageBroad, STANDARDS.md 3.1), from age in years.
# A record whose source gave a band instead of years (CTDC's ageBroad "9--17", a majority
# status) keeps only its age group, so it falls in the wide band "0-17" or "18+" instead of
# "unknown": its age is known to that extent, and SDG 16.2.2 needs no more.
_BANDS = ((0, 8), (9, 17), (18, 20), (21, 23), (24, 26), (27, 29), (30, 38), (39, 47))
FINE_AGE_BANDS = tuple(f"{lo}-{hi}" for lo, hi in _BANDS) + ("48+",)
WIDE_AGE_BANDS = ("0-17", "18+")  # from the age group, when the age in years is absent
AGE_BAND_SQL = (
    "CASE WHEN v.age IS NULL THEN (CASE WHEN v.age_group IN ('0-17', '18+') THEN v.age_group "
    "ELSE 'unknown' END) "
    + " ".join(f"WHEN v.age <= {hi} THEN '{lo}-{hi}'" for lo, hi in _BANDS)
    + " ELSE '48+' END"
)
AGE_BAND_ORDER = FINE_AGE_BANDS + WIDE_AGE_BANDS + (UNKNOWN,)


# domain.countries.flow_type in SQL, on the countries joined to both ends (cc: citizenship,
# cd: detection); tests/stats/test_stats_sql.py checks it on every pair of countries.
FLOW_TYPE_SQL = (
    "CASE WHEN cc.iso3 IS NULL OR cd.iso3 IS NULL THEN 'unknown' "
    "WHEN cc.iso3 = cd.iso3 THEN 'domestic' "
    "WHEN cc.region IS NULL OR cd.region IS NULL THEN 'unknown' "
    "WHEN cc.subregion = cd.subregion OR (cc.subregion IS NULL AND cd.subregion IS NULL) "
    "THEN 'subregional' "
    "WHEN cc.region = cd.region THEN 'intraregional' ELSE 'transregional' END"
)


def _citizenship_type(detection: str) -> str:
    return (
        "CASE WHEN v.citizenship IS NULL OR v.citizenship = 'unknown' "
        f"OR {detection} IS NULL OR {detection} = 'unknown' THEN 'unknown' "
        "WHEN v.is_national THEN 'national' ELSE 'foreign' END"
    )


def _is_national(detection: str) -> tuple[tuple[str, str], ...]:
    """Computed on each row before grouping, so the list of citizenships is never a group key."""
    return (("is_national", f"COALESCE(ARRAY_CONTAINS(v.citizenships, {detection}) "
                            f"OR v.citizenship = {detection}, FALSE)"),)


def _citizenship_area(column: str) -> str:
    return (
        "CASE WHEN v.citizenship IS NULL OR v.citizenship = 'unknown' THEN 'unknown' "
        "WHEN v.citizenship = 'stateless' THEN 'stateless' "
        f"ELSE COALESCE(cc.{column}, 'unknown') END"
    )


def _common(year_column: str, detection: str) -> dict[str, Dimension]:
    dims = [
        Dimension("year", _year(f"v.{year_column}"), "Year"),
        Dimension("sex", _unknown("v.sex"), "Sex", order=SEX_ORDER),
        Dimension("age_group", _unknown("v.age_group"), "Age group", order=AGE_ORDER),
        Dimension("age_band", AGE_BAND_SQL, "Age band", order=AGE_BAND_ORDER),
        Dimension("agency", _unknown("v.agency"), "Agency"),
        Dimension("citizenship", _unknown("v.citizenship"), "Citizenship (ISO3)"),
        Dimension("citizenship_type", _citizenship_type(detection), "National or foreign",
                  order=("national", "foreign", UNKNOWN), pre=_is_national(detection)),
        Dimension("citizenship_region", _citizenship_area("region"), "Region of citizenship",
                  needs=("countries",)),
        Dimension("citizenship_origin",
                  f"CASE WHEN {_citizenship_type(detection)} = 'national' THEN 'national' "
                  f"ELSE {_citizenship_area('region')} END",
                  "Citizenship: national, or region of a foreign citizenship",
                  needs=("countries",), order=("national",), pre=_is_national(detection)),
        Dimension("citizenship_subregion", _citizenship_area("subregion"),
                  "Subregion of citizenship", needs=("countries",)),
        # UNNEST in the select list (Spark: EXPLODE): 20x faster in DuckDB than a lateral join
        Dimension("form", "UNNEST(CASE WHEN v.exploitation_forms IS NULL OR "
                  "ARRAY_LENGTH(v.exploitation_forms) = 0 THEN ['unknown'] "
                  "ELSE v.exploitation_forms END)",
                  "Form of exploitation (fine code; a victim counts once per form)"),
    ]
    return {d.name: d for d in dims}


VICTIM_DIMENSIONS: dict[str, Dimension] = {
    **_common("identification_year", "v.country_of_detection"),
    **{d.name: d for d in (
        Dimension("victim_group", _unknown("v.victim_group"), "Victim group", order=GROUP_ORDER),
        Dimension("agency_type", _unknown("v.agency_type"), "Agency type"),
        Dimension("disability", _unknown("v.disability_status"), "Disability",
                  order=("disability", "no_disability", UNKNOWN)),
        Dimension("country_of_detection", _unknown("v.country_of_detection"),
                  "Country of detection (ISO3)"),
        Dimension("detection_region", "COALESCE(cd.region, 'unknown')", "Region of detection",
                  needs=("countries", "detection_countries")),
        Dimension("flow_type", FLOW_TYPE_SQL, "Flow (UN M49 regions)",
                  needs=("countries", "detection_countries"), order=FLOW_ORDER),
        Dimension("unodc_form", _unknown("v.primary_form"),
                  "Form of exploitation (UNODC roll-up, one per victim)",
                  order=tuple(code_list("unodc_form").codes)),
    )},
}


def perpetrator_dimensions(reporting_country: str | None) -> dict[str, Dimension]:
    """Perpetrator dimensions; national/foreign needs the reporting country (perpetrator rows
    carry no country of detection)."""
    detection = f"'{reporting_country}'" if reporting_country else "NULL"
    dims = _common("stage_year", detection)
    dims["stage"] = Dimension("stage", _unknown("v.stage"), "Criminal-justice stage",
                              order=("suspected", "prosecuted", "convicted", "acquitted"))
    return dims


@dataclass
class CountQuery:
    """A count table request, turned into SQL by ``sql()`` and run by ``run(con)``."""

    table: str
    dimensions: dict[str, Dimension]
    by: Sequence[str]
    where: list[str] = field(default_factory=list)
    rule: RollupRule | None = None     # another roll-up rule for the 'unodc_form' dimension
    margins: bool = False              # add 'total' rows for every dimension (GROUP BY CUBE)

    def _dims(self) -> list[Dimension]:
        unknown = [b for b in self.by if b not in self.dimensions]
        if unknown:
            raise ValidationError(
                f"cannot break this table down by {', '.join(unknown)}",
                column="--by", value=",".join(self.by),
                allowed=", ".join(sorted(self.dimensions)),
            )
        if len(set(self.by)) != len(self.by):
            raise ValidationError("a dimension is named twice", column="--by",
                                  value=",".join(self.by))
        dims = [self.dimensions[b] for b in self.by]
        if self.rule is not None:
            sql = rollup_from_primary_sql(self.rule) or rollup_sql(self.rule)
            dims = [Dimension(d.name, sql, d.label, d.needs, d.order, d.pre)
                    if d.name == "unodc_form" else d for d in dims]
        return dims

    def needs(self) -> set[str]:
        return {n for d in self._dims() for n in d.needs}

    def sql(self) -> str:
        """Two steps: group the raw columns the dimensions read (a plain GROUP BY, as cheap as
        it gets), then compute the dimensions, joins and margins on those few groups."""
        dims = self._dims()
        needs = self.needs()
        where = f" WHERE {' AND '.join(self.where)}" if self.where else ""
        if not dims:
            return f"SELECT COUNT(*) AS count FROM {self.table} AS v{where}"
        columns = {c for d in dims for c in _COLUMN.findall(d.sql)}
        join_columns = {"countries": {"citizenship"},
                        "detection_countries": {"country_of_detection"}}
        for need in needs:
            columns |= join_columns.get(need, set())
        pre = {name: sql for d in dims for name, sql in d.pre}
        keys = [f"v.{c}" for c in sorted(columns - set(pre))]
        selected = ", ".join([*keys, *(f"{sql} AS {name}" for name, sql in pre.items())])
        group_by = ", ".join([*keys, *pre.values()])
        grouped = (f"(SELECT {selected}, COUNT(*) AS n FROM {self.table} AS v{where} "
                   f"GROUP BY {group_by}) AS v")
        if "countries" in needs:
            grouped += f" LEFT JOIN {COUNTRIES_TABLE} AS cc ON cc.iso3 = v.citizenship"
        if "detection_countries" in needs:
            grouped += f" LEFT JOIN {COUNTRIES_TABLE} AS cd ON cd.iso3 = v.country_of_detection"
        inner = ", ".join(f"{d.sql} AS {d.name}" for d in dims)
        names = ", ".join(d.name for d in dims)
        if self.margins:
            outer = ", ".join(
                f"CASE WHEN GROUPING({d.name}) = 1 THEN '{TOTAL}' ELSE {d.name} END AS {d.name}"
                for d in dims)
            group = f"GROUP BY CUBE ({names})"
        else:
            outer, group = names, f"GROUP BY {names}"
        return (f"SELECT {outer}, SUM(n) AS count FROM (SELECT {inner}, v.n AS n FROM {grouped}) "
                f"AS t {group}")

    def run(self, con: duckdb.DuckDBPyConnection, *, complete: bool = True) -> pd.DataFrame:
        needs = self.needs()
        if "countries" in needs:
            ensure_countries(con)
        frame = con.sql(self.sql()).df()
        frame["count"] = frame["count"].fillna(0).astype("int64")
        dims = self._dims()
        if complete and dims:
            frame = _complete(frame, dims)
        return _sort(frame, dims).reset_index(drop=True)


def _levels(frame: pd.DataFrame, dim: Dimension) -> list[str]:
    seen = [x for x in frame[dim.name].dropna().unique() if x != TOTAL]
    ordered = [x for x in dim.order if x in seen]
    rest = sorted(x for x in seen if x not in dim.order and x != UNKNOWN)
    tail = [UNKNOWN] if UNKNOWN in seen and UNKNOWN not in ordered else []
    levels = ordered + rest + tail
    if TOTAL in set(frame[dim.name]):
        levels.append(TOTAL)
    return levels


def _complete(frame: pd.DataFrame, dims: list[Dimension]) -> pd.DataFrame:
    """Show empty cells as 0 (within the observed levels): a table with holes reads as 'unknown'."""
    levels = [_levels(frame, d) for d in dims]
    size = 1
    for lv in levels:
        size *= max(len(lv), 1)
    if size > MAX_COMPLETED_CELLS or frame.empty:
        return frame
    names = [d.name for d in dims]
    full = pd.DataFrame(list(product(*levels)), columns=names)
    out = full.merge(frame, on=names, how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    return out


def _sort(frame: pd.DataFrame, dims: list[Dimension]) -> pd.DataFrame:
    if frame.empty or not dims:
        return frame
    keys = {}
    for d in dims:
        rank = {level: i for i, level in enumerate(_levels(frame, d))}
        keys[d.name] = frame[d.name].map(rank)
    order = pd.DataFrame(keys).sort_values([d.name for d in dims]).index
    return frame.loc[order]


def ensure_countries(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP table of ISO3 -> UN M49 region/subregion, from domain.countries (made once per
    connection: the list is static, and a table cut asks for it on every call)."""
    from ctip.domain.countries import all_countries

    try:
        con.execute(f"SELECT 1 FROM {COUNTRIES_TABLE} LIMIT 0")
        return
    except duckdb.CatalogException:
        pass

    rows = [(c.iso3, c.name, c.region, c.subregion) for c in all_countries()]
    frame = pd.DataFrame(rows, columns=["iso3", "name", "region", "subregion"])
    con.register("_ctip_countries_df", frame)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {COUNTRIES_TABLE} AS "
                "SELECT * FROM _ctip_countries_df")
    con.unregister("_ctip_countries_df")
