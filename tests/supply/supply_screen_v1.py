"""The screen as it was before the key-level rewrite (commit e3d7002): every line checked,
mapped to goods and joined to the List row by row in DuckDB. Kept here, and only here, as the
oracle the rewritten ``ctip.supply.screen.screen`` must equal on generated ledgers."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from ctip.supply.entities import EntityList
from ctip.supply.names import DEFAULT_THRESHOLD
from ctip.supply.purchases import Purchases
from ctip.supply.reference import Crosswalk, RiskList
from ctip.supply.screen import (
    COUNTRY_DISAGREES,
    GoodsIndex,
    ScreenResult,
    _country_map,
    _entity_map,
    entry_score,
    upstream_paths,
)

CHECK_SQL = r"""
CREATE TEMP TABLE checked AS
WITH c AS (
  SELECT r.row, trim(r.supplier) AS supplier, nullif(trim(r.parent), '') AS parent,
         r.country, m.iso3, r.hs_code, nullif(regexp_replace(r.hs_code, '[\s.\-]', '', 'g'), '')
         AS hs, nullif(trim(r.product), '') AS product, trim(r.value) AS value_text,
         TRY_CAST(trim(r.value) AS DOUBLE) AS value, r.date AS date_text,
         TRY_CAST(r.date AS DATE) AS date
  FROM raw r LEFT JOIN cmap m ON m.country = r.country)
SELECT *, (supplier <> '' AND iso3 IS NOT NULL AND (product IS NOT NULL OR hs IS NOT NULL)
           AND (hs IS NULL OR regexp_full_match(hs, '[0-9]{2,10}')) AND value >= 0
           AND date IS NOT NULL) IS TRUE AS ok
FROM c
"""

# the reasons, written for the rejected rows only
PROBLEMS_SQL = r"""
SELECT row, [x FOR x IN [
         CASE WHEN supplier = '' THEN 'column ''supplier'': is empty' END,
         CASE WHEN trim(country) = '' THEN 'column ''country'': is empty'
              WHEN iso3 IS NULL THEN 'column ''country'': ' || left(country, 40)
                   || ' is not a country (ISO code or English name)' END,
         CASE WHEN product IS NULL AND hs IS NULL
              THEN 'columns ''product'' and ''hs_code'': both empty' END,
         CASE WHEN hs IS NOT NULL AND NOT regexp_full_match(hs, '[0-9]{2,10}')
              THEN 'column ''hs_code'': ' || left(hs_code, 20)
                   || ' is not an HS code (2 to 10 digits)' END,
         CASE WHEN value_text = '' THEN 'column ''value'': is empty'
              WHEN value IS NULL THEN 'column ''value'': ' || left(value_text, 20)
                   || ' is not a number'
              WHEN value < 0 THEN 'column ''value'': is negative' END,
         CASE WHEN trim(date_text) = '' THEN 'column ''date'': is empty'
              WHEN date IS NULL
              THEN 'column ''date'': ' || left(date_text, 20) || ' is not a date (YYYY-MM-DD)' END
       ] IF x IS NOT NULL] AS problems
FROM checked WHERE NOT ok ORDER BY row
"""

HITS_SQL = """
CREATE TEMP TABLE lines AS SELECT row, supplier, iso3, hs, product, value, parent
  FROM checked WHERE ok;
CREATE TEMP TABLE mapped_hs AS SELECT DISTINCT hs FROM hmap;
CREATE TEMP TABLE line_goods AS
  SELECT l.row, l.supplier, l.parent, l.iso3, l.value, h.good, 'hs' AS matched_by
  FROM lines l JOIN hmap h ON h.hs = l.hs
  UNION ALL
  SELECT l.row, l.supplier, l.parent, l.iso3, l.value, t.good, 'text'
  FROM lines l JOIN tmap t ON t.product = l.product ANTI JOIN mapped_hs m ON m.hs = l.hs;
  SELECT g.row, g.supplier, g.parent, g.iso3 AS country, g.value, 'dol.country_good' AS rule,
         g.good, g.iso3 AS hit_country, e.flags, CAST(NULL AS INTEGER) AS path_id, e.score,
         g.matched_by, $dol_version AS list_version,
         CAST(NULL AS VARCHAR) AS entity_id, CAST(NULL AS VARCHAR) AS entity_name,
         CAST(NULL AS VARCHAR) AS matched_name
  FROM line_goods g JOIN entries e ON e.good = g.good AND e.iso3 = g.iso3
  UNION ALL
  SELECT g.row, g.supplier, g.parent, g.iso3, g.value, 'dol.upstream', p.input,
         nullif(p.input_iso3, ''), p.flags, p.path_id, p.score, g.matched_by,
         $dol_version, NULL, NULL, NULL
  FROM line_goods g JOIN paths p ON p.good = g.good
  UNION ALL
  SELECT l.row, l.supplier, l.parent, l.iso3, l.value, 'entity_list', NULL, m.entity_country,
         NULL, NULL,
         CASE WHEN m.entity_country IS NOT NULL AND m.entity_country <> l.iso3
              THEN m.similarity - $disagree ELSE m.similarity END,
         m.method, m.list_version, m.entity_id, m.entity_name, m.matched_name
  FROM lines l JOIN emap m ON m.supplier = l.supplier
"""


def screen_v1(purchases: Purchases, risk: RiskList, crosswalk: Crosswalk,
           entity_lists: Sequence[EntityList] = (), *, threshold: float = DEFAULT_THRESHOLD,
           threads: int | None = None) -> ScreenResult:
    import time

    timings: dict[str, float] = {}
    start = time.perf_counter()
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    con.register("raw", purchases.table)
    countries = [r[0] for r in con.sql("SELECT DISTINCT country FROM raw").fetchall()]
    con.register("cmap", _country_map(countries, crosswalk))
    index = GoodsIndex.build(crosswalk)
    hs_values = [r[0] for r in con.sql(
        r"SELECT DISTINCT regexp_replace(hs_code, '[\s.\-]', '', 'g') FROM raw "
        "WHERE hs_code <> ''").fetchall()]
    hmap = [(h, g) for h in hs_values if h.isdigit() for g in index.by_hs(h)]
    con.register("hmap", pa.table({"hs": pa.array([h for h, _ in hmap], pa.string()),
                                   "good": pa.array([g for _, g in hmap], pa.string())}))
    texts = [r[0] for r in con.sql(
        "SELECT DISTINCT trim(product) FROM raw WHERE trim(product) <> ''").fetchall()]
    tmap = [(t, g) for t in texts for g in index.by_text(t)]
    con.register("tmap", pa.table({"product": pa.array([t for t, _ in tmap], pa.string()),
                                   "good": pa.array([g for _, g in tmap], pa.string())}))
    entries = [(e.good, crosswalk.iso3(e.country), ",".join(e.flags), entry_score(e))
               for e in risk.entries if e.flags]
    con.register("entries", pa.table({
        "good": [e[0] for e in entries], "iso3": [e[1] for e in entries],
        "flags": [e[2] for e in entries], "score": [e[3] for e in entries]}))
    steps = upstream_paths(risk, crosswalk)
    con.register("paths", pa.table({
        "good": pa.array([p.good for p in steps], pa.string()),
        "path_id": pa.array(list(range(len(steps))), pa.int32()),
        "input": pa.array([p.input for p in steps], pa.string()),
        "input_iso3": pa.array([p.input_iso3 for p in steps], pa.string()),
        "flags": pa.array([p.flags for p in steps], pa.string()),
        "score": pa.array([p.score for p in steps], pa.float64())}))
    timings["maps"] = time.perf_counter() - start
    con.execute(CHECK_SQL)
    timings["check"] = time.perf_counter() - start
    suppliers = [r[0] for r in con.sql(
        "SELECT DISTINCT supplier FROM checked WHERE ok").fetchall()]
    con.register("emap", _entity_map(suppliers, entity_lists, threshold))
    timings["entities"] = time.perf_counter() - start
    params = {"dol_version": risk.version, "disagree": COUNTRY_DISAGREES}
    statements = [s for s in HITS_SQL.split(";") if s.strip()]
    for statement in statements[:-1]:
        con.execute(statement)
    # the hits straight to Arrow (unordered: groups sort); paths and labels by reference
    hits = con.sql(statements[-1], params=params).to_arrow_table()
    timings["hits.query"] = time.perf_counter() - start
    bad = con.sql(PROBLEMS_SQL)
    rejects = list(purchases.bad_rows)
    rejects.extend({"row": row, "reasons": [f"file {purchases.source_name}, row {row}, {p}"
                                            for p in problems]}
                   for row, problems in bad.fetchall())
    rejects.sort(key=lambda r: r["row"])
    accepted = con.execute("SELECT count(*) FROM lines").fetchone()[0]  # type: ignore[index]
    unmatched = con.execute("SELECT count(*) FROM lines ANTI JOIN line_goods g "
                            "ON g.row = lines.row").fetchone()[0]  # type: ignore[index]
    timings["hits"] = time.perf_counter() - start
    con.close()
    lists = {risk.name: risk.version, **{el.label: el.version for el in entity_lists}}
    return ScreenResult(purchases.source_name, purchases.read, int(accepted), rejects, hits,
                        lists, risk.edition, int(unmatched), [p.path for p in steps], timings)
