"""Named tables for ``ctip stats TABLE [--by ...]`` and the report: name -> function and dimensions.

Each entry says which breakdowns are allowed (``allowed``), which are used when ``--by`` is not
given (``default_by``), and which columns are the dimensions a disclosure check must protect
(``dims``). The functions are the pure ones in tables.py, flows.py, sdg.py and quality.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from ctip.domain.derive import RollupRule
from ctip.errors import ValidationError
from ctip.stats.flows import flow_shares, flows
from ctip.stats.quality import data_quality
from ctip.stats.query import VICTIM_DIMENSIONS, perpetrator_dimensions
from ctip.stats.sdg import sdg_16_2_2
from ctip.stats.tables import perpetrators_by, reporting_country_of, victims_by

Runner = Callable[[duckdb.DuckDBPyConnection, list[str], RollupRule | None], pd.DataFrame]


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    description: str
    run: Runner
    allowed: tuple[str, ...]
    default_by: tuple[str, ...]
    # columns (besides --by) that identify a cell, e.g. 'series', 'sex', 'age' of the SDG table
    fixed_dims: tuple[str, ...] = ()
    value: str = "count"


@dataclass(frozen=True)
class StatTable:
    """A computed table: its spec, the dimensions used, and the frame (not yet suppressed)."""

    spec: TableSpec
    by: tuple[str, ...]
    frame: pd.DataFrame

    @property
    def dims(self) -> list[str]:
        return [*self.by, *self.spec.fixed_dims]


def _victims(con: duckdb.DuckDBPyConnection, by: list[str],
             rule: RollupRule | None) -> pd.DataFrame:
    return victims_by(con, by, rule=rule)


def _perpetrators(con: duckdb.DuckDBPyConnection, by: list[str],
                  rule: RollupRule | None) -> pd.DataFrame:
    return perpetrators_by(con, by, reporting_country=reporting_country_of(con))


def _flows(con: duckdb.DuckDBPyConnection, by: list[str], rule: RollupRule | None) -> pd.DataFrame:
    return flows(con, by=by)


def _flow_shares(con: duckdb.DuckDBPyConnection, by: list[str],
                 rule: RollupRule | None) -> pd.DataFrame:
    return flow_shares(con, by=by)


def _sdg(con: duckdb.DuckDBPyConnection, by: list[str], rule: RollupRule | None) -> pd.DataFrame:
    return sdg_16_2_2(con) if rule is None else sdg_16_2_2(con, rule=rule)


def _quality(con: duckdb.DuckDBPyConnection, by: list[str],
             rule: RollupRule | None) -> pd.DataFrame:
    return data_quality(con).rename(columns={"unknown": "count"})


_V = tuple(sorted(VICTIM_DIMENSIONS))
_P = tuple(sorted(perpetrator_dimensions(None)))
_V_NO_FLOW = tuple(d for d in _V if d not in {"citizenship", "country_of_detection", "flow_type"})

TABLES: dict[str, TableSpec] = {s.name: s for s in (
    TableSpec("victims", "Detected victims", "Detected victims by year and victim group "
              "(women, men, girls, boys; unknown shown).", _victims, _V, ("year", "victim_group")),
    TableSpec("victims-by-form", "Detected victims by form of exploitation",
              "One form per victim (UNODC roll-up; mixed = sexual exploitation and forced labour).",
              _victims, _V, ("year", "unodc_form")),
    TableSpec("victims-by-fine-form", "Detected victims by detailed form of exploitation",
              "Multi-response: a victim with several forms counts under each.",
              _victims, _V, ("year", "form")),
    TableSpec("victims-by-disability", "Detected victims by disability",
              "Detected victims by disability status and victim group (Declaration para 24).",
              _victims, _V, ("year", "disability", "victim_group")),
    TableSpec("victims-by-citizenship", "Detected victims by citizenship",
              "National or foreign, and the UN M49 region of citizenship.",
              _victims, _V, ("year", "citizenship_origin")),
    TableSpec("victims-by-age-sex", "Detected victims by age band and sex",
              "CTDC age bands from age at identification, by sex.",
              _victims, _V, ("sex", "age_band")),
    TableSpec("perpetrators", "Suspected, prosecuted and convicted persons",
              "GLOTIP Q2-Q4: persons by criminal-justice stage, sex and age group.",
              _perpetrators, _P, ("year", "stage", "sex", "age_group")),
    TableSpec("perpetrators-by-citizenship", "Suspected, prosecuted and convicted persons by "
              "citizenship", "National or foreign (against the country most victims are detected "
              "in) and region of citizenship.", _perpetrators, _P,
              ("stage", "citizenship_origin")),
    TableSpec("flows", "Flows: citizenship to country of detection",
              "Origin-destination pairs (ISO3); pivot with stats.flows.od_matrix.",
              _flows, _V_NO_FLOW, (), fixed_dims=("origin", "destination")),
    TableSpec("flow-shares", "Domestic, subregional, intraregional and transregional flows",
              "Share among victims whose flow is known (UN M49 regions).",
              _flow_shares, _V_NO_FLOW, ("year",), fixed_dims=("flow_type",)),
    TableSpec("sdg-16-2-2", "SDG 16.2.2: detected victims per 100,000 population",
              "Count and rate by series (form), sex and age; denominator: total population "
              "(World Bank).", _sdg, (), (),
              fixed_dims=("year", "ref_area", "series", "sex", "age")),
    TableSpec("data-quality", "Data quality: share of unknown values",
              "Per field and per agency; count = records with the field unknown.",
              _quality, (), (), fixed_dims=("agency", "field")),
)}


def table_spec(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        raise ValidationError(f"there is no table {name!r}", column="TABLE", value=name,
                              allowed=", ".join(TABLES)) from None


def compute(con: duckdb.DuckDBPyConnection, name: str, by: Sequence[str] | None = None,
            rule: RollupRule | None = None) -> StatTable:
    """Compute one named table (not suppressed)."""
    spec = table_spec(name)
    chosen = tuple(spec.default_by if by is None else by)
    bad = [b for b in chosen if b not in spec.allowed]
    if bad:
        raise ValidationError(
            f"table {name!r} cannot be broken down by {', '.join(bad)}", column="--by",
            value=",".join(chosen), allowed=", ".join(spec.allowed) or "(no --by for this table)")
    return StatTable(spec, chosen, spec.run(con, list(chosen), rule))
