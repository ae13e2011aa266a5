"""Graph patterns over the transfer network: scatter-gather, time-ordered cycles, shared
identifiers. (Fan-in and fan-out are distinct-counterparty counts per window, so they run as
``aggregate`` rules in ``detect``: the same figure, vectorised.)

The transfer graph has one edge per account-to-account payment (wire, ACH, transfer, MSB,
crypto, cheque): an outgoing payment is an edge account -> counterparty; an incoming one is
counterparty -> account only when the counterparty has no statement of its own in the data
(otherwise the same payment would be counted twice). Why part SQL, part networkx:
two-hop paths (scatter-gather) are a join that DuckDB does over millions of edges, while cycle
enumeration (``networkx.simple_cycles`` with a length bound) and connected components run in
networkx on what is left after pruning in SQL (nodes that cannot lie on a cycle, identifiers
held by one party only), which is small.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import networkx as nx

from ctip.finflows.detect import EVIDENCE_CAP, TRANSFER_CHANNELS, Compiler, Hit, _in, _q
from ctip.finflows.rules import Rule

HUB_DEGREE = 200  # an intermediary with more transfers than this is a business, not a mule


def transfer_edges(con: Any, compiler: Compiler) -> None:
    # the counterparty's accounts row only (is it internal?): the holder's KYC is not needed
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ff_edges AS
        SELECT txn_id, booked_at, amount,
               CASE WHEN direction = 'out' THEN account ELSE counterparty END AS src,
               CASE WHEN direction = 'out' THEN counterparty ELSE account END AS dst
        FROM (SELECT t.*, c.account IS NOT NULL AS cp_internal
              FROM tx t LEFT JOIN accounts c ON c.account = t.counterparty)
        WHERE counterparty IS NOT NULL AND {_in('channel', TRANSFER_CHANNELS)}
          AND (direction = 'out' OR NOT cp_internal)
          AND currency = {_q(compiler.rules.currency)}""")


def _edges_ready(con: Any, compiler: Compiler) -> None:
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    if "ff_edges" not in tables:
        transfer_edges(con, compiler)


def run_scatter_gather(con: Any, compiler: Compiler, rule: Rule) -> list[Hit]:
    """A pays several intermediaries B, each of which pays most of it on to the same C within
    ``lag_hours`` (time-ordered two-hop paths). Source, intermediaries and sink are flagged."""
    _edges_ready(con, compiler)
    t = rule.thresholds
    lag = float(t["lag_hours"])
    days = int(lag // 24) + 1
    ratio = float(t["min_pass_ratio"])
    least = float(t["min_amount"])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ff_sg AS
        WITH deg AS (SELECT node, count(*) AS n FROM (
                        SELECT src AS node FROM ff_edges UNION ALL SELECT dst FROM ff_edges)
                     GROUP BY node),
        small AS (SELECT node FROM deg WHERE n <= {HUB_DEGREE} AND node NOT IN (
                      SELECT account FROM accounts WHERE customer_type = 'business')),
        e1 AS (SELECT src AS a, dst AS b, txn_id AS id1, booked_at AS t1, amount AS m1,
                      CAST(booked_at AS DATE) + CAST(k AS INTEGER) AS d
               FROM ff_edges, range(0, {days + 1}) r(k)
               WHERE amount >= {least} AND dst IN (SELECT node FROM small)),
        e2 AS (SELECT src AS b, dst AS c, txn_id AS id2, booked_at AS t2, amount AS m2,
                      CAST(booked_at AS DATE) AS d
               FROM ff_edges WHERE amount >= {least * ratio}
                 AND src IN (SELECT node FROM small)),
        p AS (SELECT e1.a, e1.b, e2.c, e1.id1, e2.id2, e1.t1, e2.t2
              FROM e1 JOIN e2 ON e2.b = e1.b AND e2.d = e1.d
              WHERE e2.t2 >= e1.t1 AND e2.t2 <= e1.t1 + INTERVAL {lag} HOUR
                AND e2.c <> e1.a AND e2.c <> e1.b AND e2.m2 >= {ratio} * e1.m1)
        SELECT a, c, list(DISTINCT b ORDER BY b) AS mids, min(t1) AS start, max(t2) AS stop,
               list(DISTINCT id1) || list(DISTINCT id2) AS ids
        FROM p GROUP BY a, c HAVING count(DISTINCT b) >= {int(t['min_intermediaries'])}""")
    hits: dict[tuple[int, datetime], Hit] = {}
    for a, c, mids, start, stop, ids in con.execute(
            "SELECT * FROM ff_sg ORDER BY a, c").fetchall():
        ids = sorted(set(ids))
        figures = {"intermediaries": len(mids), "role": ""}
        for account, role in [(a, "source"), (c, "sink")] + [(m, "intermediary") for m in mids]:
            key = (int(account), start)
            if key in hits:
                continue
            hits[key] = Hit(rule.id, rule.version, int(account), start,
                            stop + timedelta(seconds=1), {**figures, "role": role},
                            tuple(ids[:EVIDENCE_CAP]), len(ids))
    return [hits[k] for k in sorted(hits)]


def run_cycles(con: Any, compiler: Compiler, rule: Rule) -> list[Hit]:
    """Bounded time-ordered cycles: chains of ``min_length`` to ``max_length`` transfers, each
    later than the one before and within ``min_hop_ratio``..``max_hop_ratio`` of its amount,
    all within ``max_days``, that end where they began.

    networkx finds the strongly connected components of the account-pair graph (only edges
    inside one can lie on a cycle); the time-ordered chains are then grown hop by hop in DuckDB
    from every remaining transfer, so the amount band and the clock prune the search as it
    goes instead of enumerating every topological cycle first."""
    _edges_ready(con, compiler)
    t = rule.thresholds
    least = float(t["min_amount"])
    low, high = float(t["min_hop_ratio"]), float(t.get("max_hop_ratio", 1.1))
    # a node that receives nothing or sends nothing cannot be on a cycle: drop such pairs in
    # SQL until none is left (most people and outside accounts go in the first rounds), then
    # let networkx find the strongly connected components of what remains
    con.execute(f"""CREATE OR REPLACE TEMP TABLE ff_pairs AS SELECT DISTINCT src, dst
                    FROM ff_edges WHERE amount >= {least} AND src <> dst""")
    before = -1
    for _ in range(30):
        count = con.execute("SELECT count(*) FROM ff_pairs").fetchall()[0][0]
        if count in (before, 0):
            break
        before = count
        con.execute("""CREATE OR REPLACE TEMP TABLE ff_pairs AS SELECT p.* FROM ff_pairs p
                       WHERE p.src IN (SELECT dst FROM ff_pairs)
                         AND p.dst IN (SELECT src FROM ff_pairs)""")
    graph = nx.DiGraph(con.execute("SELECT src, dst FROM ff_pairs").fetchall())
    component = {node: i for i, nodes in enumerate(nx.strongly_connected_components(graph))
                 if len(nodes) > 1 for node in nodes}
    if not component:
        return []
    import pyarrow as pa

    con.register("__ff_scc", pa.table({"node": list(component),
                                       "comp": list(component.values())}))
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE ff_ce AS
            SELECT e.src, e.dst, e.txn_id, e.booked_at AS t, e.amount AS m
            FROM ff_edges e JOIN __ff_scc a ON a.node = e.src JOIN __ff_scc b ON b.node = e.dst
            WHERE a.comp = b.comp AND e.amount >= {least} AND e.src <> e.dst""")
    finally:
        con.unregister("__ff_scc")
    con.execute("""CREATE OR REPLACE TEMP TABLE ff_path AS
                   SELECT src AS s0, dst AS last, t AS t0, t AS tl, m AS ml, [txn_id] AS ids,
                          [dst] AS seen FROM ff_ce""")
    found: dict[tuple[int, ...], list[str]] = {}
    for hops in range(2, int(t["max_length"]) + 1):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE ff_path AS
            SELECT p.s0, e.dst AS last, p.t0, e.t AS tl, e.m AS ml,
                   list_append(p.ids, e.txn_id) AS ids, list_append(p.seen, e.dst) AS seen
            FROM ff_path p JOIN ff_ce e ON e.src = p.last
            WHERE e.t > p.tl AND e.t <= p.t0 + INTERVAL {float(t['max_days'])} DAY
              AND e.m >= {low} * p.ml AND e.m <= {high} * p.ml
              AND NOT list_contains(p.seen, e.dst)""")
        if hops >= int(t["min_length"]):
            for s0, seen, ids in con.execute(
                    "SELECT s0, seen, ids FROM ff_path WHERE last = s0 "
                    "ORDER BY t0, ids").fetchall():
                nodes = [s0] + list(seen)[:-1]
                first = nodes.index(min(nodes))
                key = tuple(nodes[first:] + nodes[:first])
                found.setdefault(key, list(ids))
        con.execute("DELETE FROM ff_path WHERE last = s0")
        if not con.execute("SELECT count(*) FROM ff_path").fetchall()[0][0]:
            break
    when = dict(con.execute("SELECT txn_id, t FROM ff_ce").fetchall()) if found else {}
    hits: list[Hit] = []
    for cycle, path in sorted(found.items()):
        start, stop = min(when[i] for i in path), max(when[i] for i in path)
        for account in cycle:
            hits.append(Hit(rule.id, rule.version, int(account), start,
                            stop + timedelta(seconds=1), {"cycle_length": len(cycle)},
                            tuple(sorted(path)), len(path)))
    return hits


def run_shared_identifiers(con: Any, compiler: Compiler, rule: Rule) -> list[Hit]:
    """Parties linked through shared identifiers (keyed pseudonyms of phone, e-mail, address,
    device) as connected components; a component of ``min_parties`` or more flags each of its
    accounts, with the transfers between them as evidence."""
    least = int(rule.thresholds["min_parties"])
    pairs = con.execute("""
        WITH shared AS (SELECT kind, key FROM identifiers GROUP BY kind, key
                        HAVING count(DISTINCT party) >= 2)
        SELECT i.party, i.kind, i.key FROM identifiers i JOIN shared s USING (kind, key)
        ORDER BY i.party, i.kind, i.key""").fetchall()
    graph = nx.Graph()
    for party, kind, key in pairs:
        graph.add_edge(("p", party), ("i", kind, key))
    components = []
    for nodes in nx.connected_components(graph):
        parties = sorted(n[1] for n in nodes if n[0] == "p")
        if len(parties) >= least:
            kinds = sorted({n[1] for n in nodes if n[0] == "i"})
            components.append((parties, kinds))
    if not components:
        return []
    import pyarrow as pa

    comp_of = {p: i for i, (parties, _) in enumerate(components) for p in parties}
    con.register("__ff_comp", pa.table({"party": list(comp_of), "comp": list(comp_of.values())}))
    try:
        members = con.execute("""
            SELECT c.comp, a.account FROM __ff_comp c JOIN accounts a ON a.party = c.party
            ORDER BY c.comp, a.account""").fetchall()
    finally:
        con.unregister("__ff_comp")
    accounts_of: dict[int, list[int]] = {}
    for comp, account in members:
        accounts_of.setdefault(comp, []).append(int(account))
    span = con.execute("SELECT min(booked_at), max(booked_at) FROM tx").fetchall()[0]
    member = {a: c for c, accounts in accounts_of.items() for a in accounts}
    con.register("__ff_member", pa.table({"account": list(member), "comp": list(member.values())}))
    try:
        evidence: dict[int, list[str]] = {}
        for comp, txn in con.execute("""
                SELECT a.comp, t.txn_id FROM tx t
                JOIN __ff_member a ON a.account = t.account
                JOIN __ff_member b ON b.account = t.counterparty
                WHERE a.comp = b.comp ORDER BY a.comp, t.booked_at, t.txn_id""").fetchall():
            evidence.setdefault(comp, []).append(txn)
    finally:
        con.unregister("__ff_member")
    hits: list[Hit] = []
    for comp, accounts in sorted(accounts_of.items()):
        ids = evidence.get(comp, [])
        parties, kinds = components[comp]
        for account in accounts:
            hits.append(Hit(rule.id, rule.version, account, span[0],
                            span[1] + timedelta(seconds=1),
                            {"parties": len(parties), "accounts": len(accounts),
                             "shared_kinds": kinds},
                            tuple(ids[:EVIDENCE_CAP]), len(ids)))
    return hits


RUNNERS = {"scatter_gather": run_scatter_gather, "cycle": run_cycles,
           "shared_identifiers": run_shared_identifiers}


def run_graph(con: Any, compiler: Compiler, rule: Rule) -> list[Hit]:
    """The graph runner ``detect.run_rules`` calls for the graph kinds."""
    return RUNNERS[rule.kind](con, compiler, rule)
