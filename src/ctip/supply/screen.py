"""The screen: every purchase line against the List (country x good, and upstream inputs) and
against users' entity lists.

Python maps the few *distinct* values (country spellings, HS codes, product texts, supplier
names) through the reviewed tables and the name matcher. DuckDB checks and maps each distinct
(country, HS code, product) key once and works out its List hits; one pass over the lines then
checks what only a line has (supplier, value, date) and joins each line to its key's hits and
its supplier's entity matches by id, so a million lines cost about what a plain join costs
(benchmarks/supply_bench.py measures the two side by side). Every hit carries the list's label,
edition and version; every rejected line its file, row and column reasons.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ctip.domain.countries import normalise_country
from ctip.supply.entities import EntityList
from ctip.supply.names import DEFAULT_THRESHOLD, NameMatcher
from ctip.supply.purchases import Purchases
from ctip.supply.reference import Crosswalk, ListEntry, RiskList, nfc

FLAG_SCORE = {"forced_child_labor": 0.9, "forced_labor": 0.85, "derived": 0.7,
              "child_labor": 0.6}
PATH_DECAY = 0.8  # an upstream input one step away scores 0.8 of a direct hit
MAX_DEPTH = 6
COUNTRY_DISAGREES = 0.05  # taken off an entity match when both countries are known and differ
_WORD = re.compile(r"[a-z0-9]+")


def entry_score(entry: ListEntry) -> float:
    return max((FLAG_SCORE[f] for f in entry.flags), default=0.0)


def _words(text: str) -> list[str]:
    # plural-insensitive: "Solar panels" and "solar panel" are the same words
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w
            for w in _WORD.findall(normalise_text(text))]


def normalise_text(text: str) -> str:
    from anyascii import anyascii

    return anyascii(nfc(text)).casefold()


@dataclass(frozen=True)
class GoodsIndex:
    """HS prefixes and keyword phrases of the crosswalk, for distinct codes and texts."""

    by_prefix: dict[str, tuple[str, ...]]
    by_phrase: dict[tuple[str, ...], tuple[str, ...]]
    longest: int

    @classmethod
    def build(cls, crosswalk: Crosswalk) -> GoodsIndex:
        return _goods_index(crosswalk)

    @classmethod
    def _build(cls, crosswalk: Crosswalk) -> GoodsIndex:
        prefix: dict[str, list[str]] = {}
        phrase: dict[tuple[str, ...], list[str]] = {}
        for good, codes in crosswalk.hs.items():
            for code in codes:
                prefix.setdefault(code, []).append(good)
        for good, words in crosswalk.keywords.items():
            for kw in (*words, good):
                key = tuple(_words(kw))
                if key:
                    phrase.setdefault(key, []).append(good)
        return cls({k: tuple(dict.fromkeys(v)) for k, v in prefix.items()},
                   {k: tuple(dict.fromkeys(v)) for k, v in phrase.items()},
                   max((len(k) for k in phrase), default=1))

    def by_hs(self, code: str) -> tuple[str, ...]:
        found: list[str] = []
        for n in range(2, len(code) + 1):
            found.extend(self.by_prefix.get(code[:n], ()))
        return tuple(dict.fromkeys(found))

    def by_text(self, text: str) -> tuple[str, ...]:
        """Goods whose keyword phrases occur in the text; a longer phrase wins over the words
        inside it ("crude palm oil" is not also "palm oil")."""
        words = _words(text)
        spans: list[tuple[int, int, tuple[str, ...]]] = []
        for n in range(min(self.longest, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                goods = self.by_phrase.get(tuple(words[i:i + n]))
                if goods and not any(s <= i and i + n <= e for s, e, _ in spans):
                    spans.append((i, i + n, goods))
        return tuple(dict.fromkeys(g for _, _, goods in sorted(spans) for g in goods))


@lru_cache(maxsize=8)
def _goods_index(crosswalk: Crosswalk) -> GoodsIndex:
    return GoodsIndex._build(crosswalk)


def clean_hs(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text or "")


@dataclass(frozen=True)
class PathStep:
    good: str  # the purchased good
    path: str  # "Solar Modules <- Solar Cells <- ... <- Polysilicon (China)"
    input: str
    input_iso3: str  # "" when the input may come from any listed country
    flags: str
    depth: int
    score: float
    basis: str


@lru_cache(maxsize=8)
def upstream_paths(risk: RiskList, crosswalk: Crosswalk) -> list[PathStep]:
    """For every good with listed inputs, each listed input entry reachable and its path."""
    by_good: dict[str, list[ListEntry]] = {}
    for e in risk.entries:
        if e.child_labor or e.forced_labor or e.forced_child_labor:
            by_good.setdefault(e.good, []).append(e)
    links: dict[str, list[Any]] = {}
    for link in crosswalk.inputs:
        links.setdefault(link.good, []).append(link)
    out: list[PathStep] = []
    for start in sorted(links):
        stack: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [(start, (start,), ())]
        while stack:
            good, path, bases = stack.pop()
            for link in links.get(good, []):
                if link.input in path or len(path) > MAX_DEPTH:
                    continue
                step = (*path, link.input)
                basis = (*bases, link.basis)
                listed = [e for e in by_good.get(link.input, [])
                          if crosswalk.iso3(e.country)
                          and (not link.input_country or e.country == link.input_country)]
                depth = len(step) - 1
                kind = "reviewed" if "reviewed" in basis else "dol-derived"
                if link.input_country:
                    out.extend(PathStep(start, " <- ".join(step) + f" ({e.country})",
                                        link.input, crosswalk.iso3(e.country) or "",
                                        ",".join(e.flags), depth,
                                        round(entry_score(e) * PATH_DECAY ** depth, 4), kind)
                               for e in listed)
                elif listed:
                    # an input bought anywhere: one hit naming every listed origin, not one per
                    # country (a garment would otherwise carry a dozen cotton hits)
                    flags = sorted({f for e in listed for f in e.flags})
                    origins = ", ".join(sorted(e.country for e in listed))
                    out.append(PathStep(start, " <- ".join(step) + f" (listed for: {origins})",
                                        link.input, "", ",".join(flags), depth,
                                        round(max(entry_score(e) for e in listed)
                                              * PATH_DECAY ** depth, 4), kind))
                stack.append((link.input, step, basis))
    return sorted(set(out), key=lambda p: (p.good, p.depth, p.path))


@dataclass
class ScreenResult:
    source_name: str
    read: int
    accepted: int
    rejects: list[dict[str, Any]]
    hits: pa.Table  # one row per (line, hit)
    lists: dict[str, str]  # label -> version
    edition: int
    unmatched_goods: int  # accepted lines whose product maps to no good at all
    paths: list[str] = field(default_factory=list)  # a hit's path_id indexes this
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {version: label for label, version in self.lists.items()}

    def hit_rows(self) -> list[dict[str, Any]]:
        """Every hit as a dict with its path, list label and edition spelled out (small
        results; a large one is read through ``hit_groups``)."""
        labels = self.labels
        return [{**h, "path": None if h["path_id"] is None else self.paths[h["path_id"]],
                 "list_label": labels[h["list_version"]], "edition": self.edition}
                for h in self.hits.to_pylist()]

    @property
    def rejected(self) -> int:
        return len(self.rejects)


def _country_map(values: list[str], crosswalk: Crosswalk) -> pa.Table:
    iso = [crosswalk.iso3(v) or normalise_country(v) for v in values]
    return pa.table({"country": pa.array(values, pa.string()), "iso3": pa.array(iso, pa.string())})


def _entity_map(suppliers: list[str], entity_lists: Sequence[EntityList],
                threshold: float) -> pa.Table:
    cols: dict[str, list[Any]] = {k: [] for k in (
        "supplier", "list_version", "entity_id", "entity_name", "matched_name",
        "entity_country", "similarity", "method")}
    for el in entity_lists:
        matcher = NameMatcher([e.names for e in el.entities], threshold=threshold)
        for c in matcher.match(suppliers):
            e = el.entities[c.entity_index]
            for key, value in (("supplier", c.query),
                               ("list_version", el.version), ("entity_id", e.entity_id),
                               ("entity_name", e.name), ("matched_name", c.matched_name),
                               ("entity_country", e.country), ("similarity", c.score),
                               ("method", c.method)):
                cols[key].append(value)
    types = {"similarity": pa.float64()}
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})


# the distinct (country, HS code, product) keys of the file, each checked and mapped once: a
# ledger has millions of lines but a few hundred such keys
KEYS_SQL = r"""
CREATE TEMP TABLE keys AS
SELECT *, (iso3 IS NOT NULL AND (product IS NOT NULL OR hs IS NOT NULL)
           AND (hs IS NULL OR regexp_full_match(hs, '[0-9]{2,10}'))) IS TRUE AS key_ok
FROM (SELECT (row_number() OVER ())::INTEGER AS kid, d.country, m.iso3, d.hs_code,
             nullif(regexp_replace(d.hs_code, '[\s.\-]', '', 'g'), '') AS hs,
             d.product AS product_text, nullif(trim(d.product), '') AS product
      FROM distinct_keys d LEFT JOIN cmap m ON m.country = d.country)
"""

# per key, its goods (HS code first; the product text only when the code maps to nothing) and
# the List's hits on them: the hit columns every line of the key shares
KEY_HITS_SQL = """
CREATE TEMP TABLE mapped_hs AS SELECT DISTINCT hs FROM hmap;
CREATE TEMP TABLE key_goods AS
  SELECT k.kid, h.good, 'hs' AS matched_by FROM keys k JOIN hmap h ON h.hs = k.hs
  UNION ALL
  SELECT k.kid, t.good, 'text' FROM keys k JOIN tmap t ON t.product = k.product
  ANTI JOIN mapped_hs m ON m.hs = k.hs;
CREATE TEMP TABLE key_hits AS
  SELECT g.kid, k.iso3 AS country, 'dol.country_good' AS rule, g.good, k.iso3 AS hit_country,
         e.flags, CAST(NULL AS INTEGER) AS path_id, e.score, g.matched_by
  FROM key_goods g JOIN keys k ON k.kid = g.kid JOIN entries e ON e.good = g.good
   AND e.iso3 = k.iso3
  UNION ALL
  SELECT g.kid, k.iso3, 'dol.upstream', p.input, nullif(p.input_iso3, ''), p.flags, p.path_id,
         p.score, g.matched_by
  FROM key_goods g JOIN keys k ON k.kid = g.kid JOIN paths p ON p.good = g.good
"""

# one pass over the lines: what only a line has (parent, value, date) checked here; what its
# key (the country's ISO code among it) and its supplier (the name, trimmed once) have stays
# with them, the line keeping their ids
LINES_SQL = """
CREATE TEMP TABLE sups AS SELECT (row_number() OVER ())::INTEGER AS sid, raw,
  trim(raw) AS supplier FROM (SELECT DISTINCT supplier AS raw FROM raw);
CREATE TEMP TABLE lines AS
SELECT row, sid, parent, kid, value,
       (supplier <> '' AND key_ok AND value >= 0 AND date IS NOT NULL) IS TRUE AS ok
FROM (SELECT r.row, s.sid, s.supplier, nullif(trim(r.parent), '') AS parent, k.kid,
             k.key_ok, TRY_CAST(trim(r.value) AS DOUBLE) AS value,
             TRY_CAST(r.date AS DATE) AS date
      FROM raw r JOIN keys k ON k.country = r.country AND k.hs_code = r.hs_code
       AND k.product_text = r.product JOIN sups s ON s.raw = r.supplier)
"""

# the reasons, written for the rejected rows only
PROBLEMS_SQL = r"""
WITH c AS (
  SELECT r.row, trim(r.supplier) AS supplier, r.country, k.iso3, r.hs_code, k.hs, k.product,
         trim(r.value) AS value_text, TRY_CAST(trim(r.value) AS DOUBLE) AS value,
         r.date AS date_text, TRY_CAST(r.date AS DATE) AS date
  FROM (SELECT row, kid FROM lines WHERE NOT ok) b JOIN raw r ON r.row = b.row
  JOIN keys k ON k.kid = b.kid)
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
FROM c ORDER BY row
"""

HITS_SQL = """
SELECT l.row, s.supplier, l.parent, h.country, l.value, h.rule, h.good, h.hit_country,
       h.flags, h.path_id, h.score, h.matched_by, $dol_version AS list_version,
       CAST(NULL AS VARCHAR) AS entity_id, CAST(NULL AS VARCHAR) AS entity_name,
       CAST(NULL AS VARCHAR) AS matched_name
FROM lines l JOIN key_hits h ON h.kid = l.kid JOIN sups s ON s.sid = l.sid WHERE l.ok
UNION ALL
SELECT l.row, s.supplier, l.parent, k.iso3, l.value, 'entity_list', NULL, m.entity_country,
       NULL, NULL,
       CASE WHEN m.entity_country IS NOT NULL AND m.entity_country <> k.iso3
            THEN m.similarity - $disagree ELSE m.similarity END,
       m.method, m.list_version, m.entity_id, m.entity_name, m.matched_name
FROM lines l JOIN sups s ON s.sid = l.sid JOIN emap m ON m.supplier = s.supplier
  JOIN keys k ON k.kid = l.kid WHERE l.ok
"""


def _strings(table: pa.Table, names: Sequence[str]) -> pa.Table:
    """The key columns without nulls (an absent optional column reads as all nulls; empty and
    null mean the same to the checks), so the lines join their keys on plain equality."""
    for name in names:
        i = table.column_names.index(name)
        if table.column(i).null_count:
            table = table.set_column(i, name, pc.fill_null(table.column(i), ""))
    return table


def _run(con: duckdb.DuckDBPyConnection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            con.execute(statement)


def screen(purchases: Purchases, risk: RiskList, crosswalk: Crosswalk,
           entity_lists: Sequence[EntityList] = (), *, threshold: float = DEFAULT_THRESHOLD,
           threads: int | None = None) -> ScreenResult:
    import time

    timings: dict[str, float] = {}
    start = time.perf_counter()
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    con.register("raw", _strings(purchases.table, ("hs_code", "product")))
    con.execute("CREATE TEMP TABLE distinct_keys AS SELECT DISTINCT country, hs_code, product "
                "FROM raw")
    countries = [r[0] for r in con.sql("SELECT DISTINCT country FROM distinct_keys")
                 .fetchall()]
    con.register("cmap", _country_map(countries, crosswalk))
    con.execute(KEYS_SQL)
    index = GoodsIndex.build(crosswalk)
    hs_values = [r[0] for r in con.sql(
        r"SELECT DISTINCT regexp_replace(hs_code, '[\s.\-]', '', 'g') FROM keys "
        "WHERE hs_code <> ''").fetchall()]
    hmap = [(h, g) for h in hs_values if h.isdigit() for g in index.by_hs(h)]
    con.register("hmap", pa.table({"hs": pa.array([h for h, _ in hmap], pa.string()),
                                   "good": pa.array([g for _, g in hmap], pa.string())}))
    texts = [r[0] for r in con.sql("SELECT DISTINCT product FROM keys WHERE product <> ''")
             .fetchall()]
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
    _run(con, KEY_HITS_SQL)
    timings["maps"] = time.perf_counter() - start
    _run(con, LINES_SQL)
    timings["check"] = time.perf_counter() - start
    suppliers = [r[0] for r in con.sql(
        "SELECT DISTINCT supplier FROM sups WHERE sid IN (SELECT sid FROM lines WHERE ok)")
        .fetchall()]
    con.register("emap", _entity_map(suppliers, entity_lists, threshold))
    timings["entities"] = time.perf_counter() - start
    params = {"dol_version": risk.version, "disagree": COUNTRY_DISAGREES}
    # the hits straight to Arrow (unordered: groups sort); paths and labels by reference
    hits = con.sql(HITS_SQL, params=params).to_arrow_table()
    timings["hits.query"] = time.perf_counter() - start
    rejects = list(purchases.bad_rows)
    rejects.extend({"row": row, "reasons": [f"file {purchases.source_name}, row {row}, {p}"
                                            for p in problems]}
                   for row, problems in con.sql(PROBLEMS_SQL).fetchall())
    rejects.sort(key=lambda r: r["row"])
    accepted, unmatched = con.execute(
        "SELECT count(*) FILTER (WHERE ok), count(*) FILTER (WHERE ok AND kid NOT IN "
        "(SELECT kid FROM key_goods)) FROM lines").fetchone()  # type: ignore[misc]
    timings["hits"] = time.perf_counter() - start
    con.close()
    lists = {risk.name: risk.version, **{el.label: el.version for el in entity_lists}}
    return ScreenResult(purchases.source_name, purchases.read, int(accepted), rejects, hits,
                        lists, risk.edition, int(unmatched), [p.path for p in steps], timings)


# the same groups whatever order the hits come in (a screen's hits are unordered): sums in row
# order, the first line's country and parent, the ways matched in alphabetical order
GROUP_SQL = """
SELECT supplier, rule, good, hit_country, list_version, entity_id, path_id,
       any_value(entity_name) AS entity_name, any_value(matched_name) AS matched_name,
       any_value(flags) AS flags, max(score) AS score, count(*) AS lines,
       sum(value ORDER BY row) AS value, list(row ORDER BY row)[1:20] AS rows,
       arg_min(country, row) AS supplier_country, arg_min(parent, row) AS parent,
       string_agg(DISTINCT matched_by, ',' ORDER BY matched_by) AS matched_by
FROM hits
GROUP BY supplier, rule, good, hit_country, list_version, entity_id, path_id
ORDER BY score DESC, value DESC, supplier, rule, good, path_id
"""


def hit_groups(result: ScreenResult) -> list[dict[str, Any]]:
    """Hits per (supplier, rule, listed good or entity, path): what a person reviews."""
    con = duckdb.connect()
    con.register("hits", result.hits)
    try:
        rows = con.sql(GROUP_SQL).to_arrow_table().to_pylist()
    finally:
        con.close()
    labels = result.labels
    for g in rows:
        path_id = g.pop("path_id")
        g["path"] = None if path_id is None else result.paths[path_id]
        g["list_label"] = labels[g["list_version"]]
        g["edition"] = result.edition
    return rows
