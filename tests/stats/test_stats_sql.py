"""The SQL behind the tables: the roll-up equals domain.derive; every query transpiles to Spark."""

from __future__ import annotations

import duckdb
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.domain.derive import RollupRule, primary_form
from ctip.domain.vocabulary import code_list
from ctip.stats.quality import quality_sql
from ctip.stats.query import VICTIM_DIMENSIONS, perpetrator_dimensions, rollup_sql
from ctip.stats.sdg import SDG_RULE, indicator_sql
from ctip.stats.tables import perpetrators_query, victims_query

FORMS = list(code_list("exploitation_form").codes)
CATEGORIES = [
    "sexual_exploitation",
    "forced_labour",
    "forced_criminality",
    "begging",
    "organ_removal",
    "other",
]

rules = st.builds(
    RollupRule,
    mixed=st.booleans(),
    begging_and_criminality_as_labour=st.booleans(),
    precedence=st.permutations(CATEGORIES).flatmap(
        lambda p: st.integers(0, len(p)).map(lambda n: tuple(p[:n]))
    ),
)
form_lists = st.one_of(st.none(), st.lists(st.sampled_from(FORMS), unique=True, max_size=4))


@settings(max_examples=60, deadline=None)
@given(rule=rules, forms=st.lists(form_lists, min_size=1, max_size=8))
def test_rollup_sql_equals_domain_primary_form(rule, forms):
    con = duckdb.connect()
    con.execute("CREATE TABLE v (i INTEGER, exploitation_forms VARCHAR[])")
    con.executemany("INSERT INTO v VALUES (?, ?)", list(enumerate(forms)))
    got = dict(con.execute(f"SELECT i, {rollup_sql(rule)} FROM v").fetchall())
    for i, f in enumerate(forms):
        assert got[i] == primary_form(tuple(f) if f is not None else None, rule), (f, rule)


def _to_spark(sql: str) -> str:
    return sqlglot.transpile(
        sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE
    )[0]


def test_every_dimension_transpiles_to_spark():
    for name in VICTIM_DIMENSIONS:
        for margins in (False, True):
            spark = _to_spark(
                victims_query(
                    ["sex" if name == "year" else "year", name],
                    margins=margins,
                    rule=RollupRule(mixed=False),
                ).sql()
            )
            assert "GROUP BY" in spark
    for name in perpetrator_dimensions("MLT"):
        _to_spark(
            perpetrators_query(
                ["sex" if name == "stage" else "stage", name], reporting_country="MLT"
            ).sql()
        )
    spark = _to_spark(quality_sql())
    assert "GROUPING SETS" in spark
    # SDG 16.2.2 in one query: series, totals over sex and age, order
    cells = victims_query(["year", "country_of_detection", "sex", "age_group", "unodc_form"],
                          rule=SDG_RULE).sql()
    spark = _to_spark(indicator_sql(cells))
    assert "GROUPING SETS" in spark and "UNION ALL" in spark
    # the exploded form list becomes Spark's EXPLODE, array length SIZE
    spark = _to_spark(victims_query(["form"]).sql())
    assert "EXPLODE" in spark and "SIZE(" in spark


def test_flow_type_sql_equals_domain_on_every_pair_of_countries():
    from ctip.domain.countries import all_countries, flow_type
    from ctip.stats.query import COUNTRIES_TABLE, FLOW_TYPE_SQL, ensure_countries

    con = duckdb.connect()
    ensure_countries(con)
    rows = con.execute(
        f"SELECT o.iso3, d.iso3, {FLOW_TYPE_SQL.replace('cc.', 'o.').replace('cd.', 'd.')} "
        f"FROM {COUNTRIES_TABLE} AS o CROSS JOIN {COUNTRIES_TABLE} AS d"
    ).fetchall()
    assert len(rows) == len(all_countries()) ** 2
    for origin, destination, kind in rows:
        assert kind == flow_type(origin, destination), (origin, destination)
