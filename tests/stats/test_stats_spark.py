"""The same table SQL on Apache Spark (local mode) gives the same counts as on DuckDB.

The queries are written once (DuckDB dialect) and transpiled by SQLGlot; this runs them on Spark
over the hand-made fixture and compares every cell.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest
import sqlglot
from stats_fixture import FIXTURE_VICTIMS, load

from ctip.domain.analytic import ANALYTIC_COLUMNS
from ctip.domain.countries import all_countries
from ctip.domain.derive import RollupRule
from ctip.stats.tables import victims_query

pytestmark = pytest.mark.spark

SPARK_TYPES = {
    "VARCHAR": "string",
    "DATE": "date",
    "INTEGER": "int",
    "BOOLEAN": "boolean",
    "VARCHAR[]": "array<string>",
}
CASES = [
    (["year", "victim_group"], None, False),
    (["year", "sex"], None, True),
    (
        ["year", "unodc_form"],
        RollupRule(mixed=False, begging_and_criminality_as_labour=True),
        False,
    ),
    (["form"], None, False),
    (["citizenship_type", "citizenship_origin"], None, False),
    (["disability", "age_band"], None, True),
    (["year", "flow_type"], None, False),
]


def _spark():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession  # a test dependency; Java is the outside resource

    if shutil.which("java") is None:
        pytest.skip("Java is not on PATH (Spark needs Java 17); it runs in CI")
    return (
        SparkSession.builder.master("local[1]")
        .appName("ctip-stats-test")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def test_tables_on_spark_equal_duckdb():
    spark = _spark()
    try:
        schema = ", ".join(f"{c} {SPARK_TYPES[t]}" for c, t in ANALYTIC_COLUMNS.items())
        rows = []
        for r in FIXTURE_VICTIMS:
            r = dict(r)
            if r["identification_date"]:
                r["identification_date"] = dt.date.fromisoformat(r["identification_date"])
            rows.append(tuple(r[c] for c in ANALYTIC_COLUMNS))
        spark.createDataFrame(rows, schema).createOrReplaceTempView("victims")
        countries = [(c.iso3, c.name, c.region, c.subregion) for c in all_countries()]
        spark.createDataFrame(
            countries, "iso3 string, name string, region string, subregion string"
        ).createOrReplaceTempView("ctip_countries")
        con = duckdb.connect()
        load(con, "victims", ANALYTIC_COLUMNS, FIXTURE_VICTIMS)
        for by, rule, margins in CASES:
            query = victims_query(by, rule=rule, margins=margins)
            duck = query.run(con, complete=False)
            sql = sqlglot.transpile(query.sql(), read="duckdb", write="spark")[0]
            on_spark = spark.sql(sql).toPandas()
            def as_set(f, by=by):  # type: ignore[no-untyped-def]
                rows = f[[*by, "count"]].itertuples(index=False)
                return {(*(str(x) for x in row[:-1]), int(row[-1])) for row in rows}

            assert as_set(duck) == as_set(on_spark), (by, sql)
            assert len(duck) > 1
    finally:
        spark.stop()
