"""Run the rule file over the whole transaction table, vectorised on DuckDB.

Input tables in the DuckDB connection (``frames``): ``tx`` (ANALYTIC_COLUMNS), ``accounts``
(ACCOUNT_COLUMNS) and ``identifiers`` (IDENTIFIER_COLUMNS); reference lists are loaded by
``load_lists``. Why one pass per window: every ``aggregate`` rule of the same window is one
FILTERed measure of a single GROUP BY (account, window) over the rows any of them can use, so
thirty rules cost about as much as a few scans; the evidence (transaction ids) is fetched
afterwards only for the few (account, window) pairs that fired. The other kinds (peer
baselines, pass-through wages, collectors, funnels, identifier lists) are one query each; the
graph patterns are in ``graph``.

The SQL here is analytics over a DuckDB connection (as in ``stats/``); it never touches the
case store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ctip.finflows import fast
from ctip.finflows.rules import Rule, RuleSet

EVIDENCE_CAP = 100  # transaction ids kept per hit (the figures keep the full count)
DICTIONARY_COLUMNS = ("currency", "channel", "direction", "counterparty_country", "merchant",
                      "mcc", "location", "region", "purpose")
TRANSFER_CHANNELS = ("wire", "ach", "transfer", "msb", "crypto", "cheque")
DEFAULT_OPENS, DEFAULT_CLOSES = 8, 18


@dataclass(frozen=True)
class Hit:
    """One rule firing for one account in one window, with the transactions behind it."""

    rule_id: str
    rule_version: int
    account: int
    window_start: datetime
    window_end: datetime
    figures: dict[str, Any]
    evidence: tuple[str, ...]
    evidence_count: int


@dataclass
class DetectResult:
    hits: list[Hit] = field(default_factory=list)
    not_assessed: dict[str, str] = field(default_factory=dict)  # rule id -> why not
    transactions: int = 0
    accounts: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _q(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _in(column: str, values: Any) -> str:
    values = [values] if isinstance(values, str) else list(values)
    return f"{column} IN ({', '.join(_q(v) for v in values)})"


class Compiler:
    """Turns the rule file's ``where`` vocabulary into DuckDB predicates over ``ff_tx``."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def mccs(self, categories: list[str]) -> list[str]:
        return sorted({m for c in categories for m in self.rules.categories[c]})

    def category_case(self, categories: list[str]) -> str:
        arms = " ".join(f"WHEN {_in('mcc', self.rules.categories[c])} THEN {_q(c)}"
                        for c in categories)
        return f"CASE {arms} END"

    def source(self, *clauses: dict[str, Any] | None) -> str:
        """The narrowest view that has every column the clauses use."""
        keys: set[str] = set()

        def walk(clause: Any) -> None:
            if isinstance(clause, dict):
                keys.update(clause)
                for sub in clause.get("any", []):
                    walk(sub)

        for clause in clauses:
            walk(clause)
        if keys & {"counterparty_internal", "counterparty_customer_type"}:
            return "ff_tx"
        if keys & {"customer_type", "business_type_in", "business_type_not_in",
                   "employees_gte", "observed", "outside_business_hours"}:
            return "ff_txa"
        return "ff_tx0"

    def where(self, clause: dict[str, Any] | None) -> str:
        if not clause:
            return "TRUE"
        home = _q(self.rules.home_country)
        parts: list[str] = []
        for key, value in clause.items():
            if key == "channel":
                parts.append(_in("channel", value))
            elif key == "direction":
                parts.append(f"direction = {_q(value)}")
            elif key == "purpose":
                parts.append(_in("purpose", value))
            elif key == "purpose_not":
                parts.append(f"NOT {_in('coalesce(purpose, chr(0))', value)}")
            elif key == "mcc_category":
                parts.append(_in("mcc", self.mccs(value)))
            elif key == "amount":
                if "gte" in value:
                    parts.append(f"amount >= {float(value['gte'])}")
                if "lt" in value:
                    parts.append(f"amount < {float(value['lt'])}")
            elif key == "counterparty_country_in":
                parts.append("counterparty_country IN (SELECT code FROM ff_list_country "
                             f"WHERE list = {_q(value)})")
            elif key == "counterparty_abroad":
                parts.append(f"(counterparty_country IS NOT NULL AND counterparty_country <> "
                             f"{home}) = {bool(value)}")
            elif key == "merchant_in":
                parts.append("merchant IN (SELECT merchant FROM ff_merchants "
                             f"WHERE list = {_q(value)})")
            elif key == "merchant_abroad_in":
                parts.append("merchant IN (SELECT merchant FROM ff_merchants "
                             f"WHERE list = {_q(value)} AND country <> {home})")
            elif key == "counterparty_in":
                parts.append("counterparty IN (SELECT ref FROM ff_list_ref "
                             f"WHERE list = {_q(value)})")
            elif key == "counterparty_known":
                parts.append(f"(counterparty IS NOT NULL) = {bool(value)}")
            elif key == "counterparty_hidden":
                parts.append(f"(counterparty IS NULL) = {bool(value)}")
            elif key == "counterparty_internal":
                parts.append(f"cp_internal = {bool(value)}")
            elif key == "counterparty_customer_type":
                parts.append(f"cp_customer_type = {_q(value)}")
            elif key == "customer_type":
                parts.append(f"customer_type = {_q(value)}")
            elif key == "business_type_in":
                parts.append(_in("business_type", value))
            elif key == "business_type_not_in":
                parts.append(f"NOT {_in('coalesce(business_type, chr(0))', value)}")
            elif key == "employees_gte":
                parts.append(f"coalesce(employees, 0) >= {int(value)}")
            elif key == "observed":
                parts.append(f"contains(coalesce(observed, ''), {_q(value)})")
            elif key == "outside_business_hours":
                # opening hours may run past midnight (a bar open 16 to 2)
                outside = ("CASE WHEN opens < closes THEN (hr < opens OR hr >= closes) "
                           "ELSE (hr >= closes AND hr < opens) END")
                parts.append(f"(time_known AND {outside}) = {bool(value)}")
            elif key == "hours_between":
                start, end = int(value[0]), int(value[1])
                hours = (f"(hr >= {start} OR hr < {end})" if start > end
                         else f"(hr >= {start} AND hr < {end})")
                parts.append(f"(time_known AND {hours})")
            elif key == "any":
                parts.append("(" + " OR ".join(self.where(sub) for sub in value) + ")")
            else:  # pragma: no cover - parse_rules refuses unknown keys
                raise ValueError(key)
        return "(" + " AND ".join(parts) + ")"


def uses_amount(rule: Rule) -> bool:
    def walk(clause: Any) -> bool:
        if isinstance(clause, dict):
            return "amount" in clause or any(walk(v) for v in clause.values())
        if isinstance(clause, list):
            return any(walk(v) for v in clause)
        return False

    return walk(rule.where) or any(k in rule.having for k in ("sum_gte", "numerator_gte",
                                                               "denominator_gte"))


# which analytic column each where key needs to be present (not all NULL) in the data
_NEEDS = {"mcc_category": "mcc", "merchant_in": "merchant", "merchant_abroad_in": "merchant",
          "counterparty_in": "counterparty", "counterparty_known": "counterparty",
          "counterparty_internal": "counterparty", "counterparty_customer_type": "counterparty",
          "counterparty_country_in": "counterparty_country",
          "counterparty_abroad": "counterparty_country", "purpose": "purpose",
          "outside_business_hours": "time_known", "hours_between": "time_known",
          "customer_type": "kyc", "business_type_in": "kyc", "business_type_not_in": "kyc",
          "employees_gte": "kyc", "observed": "observed"}
_KIND_NEEDS = {"pass_through": ("purpose",), "collector": ("purpose", "counterparty"),
               "funnel": ("region",), "scatter_gather": ("counterparty",),
               "cycle": ("counterparty",), "shared_identifiers": ("identifiers",),
               "identifier_list": ("identifiers",), "peer": ("kyc",)}


def needed_columns(rule: Rule) -> set[str]:
    """Optional inputs a rule cannot run without (an ``any`` needs only what all its branches
    share)."""

    def walk(clause: Any) -> set[str]:
        needs: set[str] = set()
        if not isinstance(clause, dict):
            return needs
        for key, value in clause.items():
            if key in _NEEDS:
                needs.add(_NEEDS[key])
            if key == "any":
                branches = [walk(sub) for sub in value]
                needs |= set.intersection(*branches) if branches else set()
        return needs

    needs: set[str] = set(_KIND_NEEDS.get(rule.kind, ()))
    for clause in (rule.where, rule.scope, rule.numerator, rule.denominator):
        needs |= walk(clause)
    distinct = rule.having.get("distinct")
    if distinct and distinct["column"] in ("region", "location", "counterparty"):
        needs.add(distinct["column"])
    return needs


def present_columns(con: Any, counts: dict[str, int] | None = None,
                    frames: Any = None) -> set[str]:
    """Which optional inputs the data has at all (a column entirely NULL is absent). The
    same scan counts the transactions and accounts into ``counts`` when given. With the fast
    path's ``frames`` (the Arrow table ``tx`` is), the counts come from the Arrow columns'
    NULL counts and the frames' account codes instead of a scan."""
    names = ("mcc", "merchant", "counterparty", "counterparty_country", "purpose", "region",
             "location", "time_known")
    if frames is not None:
        row = tuple(frames.n - frames.tx.column(n).null_count for n in names[:-1])
        row += (int(frames.time_known[0].any()), frames.n, len(frames.account_codes[1]))
    else:
        row = con.execute(
            "SELECT count(mcc), count(merchant), count(counterparty), "
            "count(counterparty_country), count(purpose), count(region), count(location), "
            "count(*) FILTER (WHERE time_known), count(*), count(DISTINCT account) FROM tx"
        ).fetchall()[0]
    present = {n for n, c in zip(names, row[:-2], strict=True) if c}
    if counts is not None:
        counts.update(transactions=int(row[-2]), accounts=int(row[-1]))
    kyc = con.execute("SELECT count(customer_type), count(observed) FROM accounts").fetchall()[0]
    if kyc[0]:
        present.add("kyc")
    if kyc[1]:
        present.add("observed")
    if con.execute("SELECT count(*) FROM identifiers").fetchall()[0][0]:
        present.add("identifiers")
    return present


def prepare(con: Any, rules: RuleSet) -> None:
    """``ff_tx``: a view of the transactions with the account's KYC fields beside each row
    and the counterparty's (a view, not a copy: DuckDB joins the small accounts table on the
    fly in each pass, which costs far less than materialising ten million rows again), and the
    merchants matched against the merchant lists."""
    con.execute("DROP TABLE IF EXISTS ff_edges")
    con.execute("DROP TABLE IF EXISTS ff_wage_out")
    kyc = (f"a.customer_type, a.business_type, a.employees, "
           f"coalesce(a.opens, {DEFAULT_OPENS}) AS opens, "
           f"coalesce(a.closes, {DEFAULT_CLOSES}) AS closes, a.observed")
    # three views, so a rule joins only what it uses (a join on every pass costs more than the
    # rule's own filter): the transactions alone, with the holder's KYC, and with both parties'
    con.execute("CREATE OR REPLACE TEMP VIEW ff_tx0 AS SELECT t.*, hour(t.booked_at) AS hr "
                "FROM tx t")
    con.execute(f"CREATE OR REPLACE TEMP VIEW ff_txa AS SELECT t.*, hour(t.booked_at) AS hr, "
                f"{kyc} FROM tx t LEFT JOIN accounts a ON a.account = t.account")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW ff_tx AS
        SELECT t.*, hour(t.booked_at) AS hr, {kyc},
               c.account IS NOT NULL AS cp_internal, c.customer_type AS cp_customer_type
        FROM tx t
        LEFT JOIN accounts a ON a.account = t.account
        LEFT JOIN accounts c ON c.account = t.counterparty""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ff_merchants AS
        SELECT DISTINCT m.merchant, l.list, l.country
        FROM (SELECT DISTINCT merchant FROM tx WHERE merchant IS NOT NULL) m
        JOIN ff_list_merchant l ON contains(lower(m.merchant), lower(l.pattern))""")


def load_lists(con: Any, *, countries: dict[str, list[str]], merchants: dict[str, list[tuple[
        str, str]]], refs: dict[str, list[int]], identifiers: dict[str, list[str]]) -> None:
    """Reference lists as small DuckDB tables: country codes, merchant patterns with the
    country the site is based in, account references (pseudonymised by the service) and
    identifier keys (pseudonymised likewise)."""
    import pyarrow as pa

    def table(name: str, columns: dict[str, list[Any]], types: dict[str, Any]) -> None:
        arrow = pa.table({k: pa.array(v, type=types[k]) for k, v in columns.items()})
        con.register(f"__{name}", arrow)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM __{name}")
        con.unregister(f"__{name}")

    table("ff_list_country", {"list": [k for k, v in countries.items() for _ in v],
                              "code": [c for v in countries.values() for c in v]},
          {"list": pa.string(), "code": pa.string()})
    table("ff_list_merchant", {"list": [k for k, v in merchants.items() for _ in v],
                               "pattern": [p for v in merchants.values() for p, _ in v],
                               "country": [c for v in merchants.values() for _, c in v]},
          {"list": pa.string(), "pattern": pa.string(), "country": pa.string()})
    table("ff_list_ref", {"list": [k for k, v in refs.items() for _ in v],
                          "ref": [r for v in refs.values() for r in v]},
          {"list": pa.string(), "ref": pa.int64()})
    table("ff_list_identifier", {"list": [k for k, v in identifiers.items() for _ in v],
                                 "key": [r for v in identifiers.values() for r in v]},
          {"list": pa.string(), "key": pa.string()})


def list_sizes(con: Any) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for table in ("ff_list_country", "ff_list_merchant", "ff_list_ref", "ff_list_identifier"):
        for name, n in con.execute(f"SELECT list, count(*) FROM {table} GROUP BY list").fetchall():
            sizes[name] = sizes.get(name, 0) + n
    return sizes


_STEP = {"day": "INTERVAL 1 DAY", "week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH"}


def run_aggregates(con: Any, compiler: Compiler, rules: list[Rule], window: str,
                   frames: Any = None) -> list[Hit]:
    """Aggregate rules of one window: in numpy over ``frames`` (``fast``) when given, else the
    reference path in SQL: each rule its own filtered GROUP BY (the filter is pushed into the
    scan, so only the rows the rule can use are grouped), then one pass over the transactions
    of the accounts that fired fetches the evidence of every rule at once. Both give the same
    hits (tests/finflows/test_finflows_fast.py)."""
    if frames is not None:
        fired, evidence = fast.run_aggregates(con, compiler, frames, rules, window)
    else:
        fired = []
        for i, rule in enumerate(rules):
            fired += [(i, *row) for row in fired_groups(con, compiler, rule, window)]
        evidence = _evidence(con, compiler, rules, window, fired) if fired else {}
    names = ("r", "account", "ws", "n", "total", "distinct_n", "base_n")
    hits = []
    for row in sorted(fired, key=lambda x: (x[0], x[1], x[2])):
        values = dict(zip(names, row, strict=True))
        rule = rules[values["r"]]
        ids, count = evidence.get((values["r"], values["account"], values["ws"]), ([], 0))
        figures: dict[str, Any] = {"transactions": int(values["n"])}
        if values["total"] is not None:
            figures["total"] = round(float(values["total"]), 2)
        if values["distinct_n"] is not None:
            figures[f"distinct_{rule.having['distinct']['column']}"] = int(values["distinct_n"])
        if values["base_n"] is not None:
            figures["share"] = (round(values["n"] / values["base_n"], 3) if values["base_n"]
                                else 0.0)
        hits.append(_hit(rule, values["account"], values["ws"], window, figures, ids, count))
    return hits


def _evidence(con: Any, compiler: Compiler, rules: list[Rule], window: str,
              fired: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
    import pyarrow as pa

    columns = list(zip(*fired, strict=True))
    con.register("__ff_fired", pa.table({
        "r": pa.array(columns[0], pa.int32()), "account": pa.array(columns[1], pa.int64()),
        "ws": pa.array(columns[2], pa.timestamp("us"))}))
    wheres = " ".join(f"WHEN {i} THEN {_rule_where(compiler, r)}" for i, r in enumerate(rules))
    try:
        return {(r, a, ws): (ids, n) for r, a, ws, ids, n in con.execute(f"""
            SELECT f.r, f.account, f.ws,
                   list(t.txn_id ORDER BY t.booked_at, t.txn_id)[1:{EVIDENCE_CAP}], count(*)
            FROM (SELECT * FROM ff_tx WHERE account IN (SELECT account FROM __ff_fired)) t
            JOIN __ff_fired f ON f.account = t.account
                 AND f.ws = date_trunc('{window}', t.booked_at)
            WHERE CASE f.r {wheres} END
            GROUP BY f.r, f.account, f.ws""").fetchall()}
    finally:
        con.unregister("__ff_fired")


def _rule_where(compiler: Compiler, rule: Rule) -> str:
    w = compiler.where(rule.where)
    if uses_amount(rule):
        w = f"({w} AND currency = {_q(compiler.rules.currency)})"
    return w


def fired_groups(con: Any, compiler: Compiler, rule: Rule, window: str) -> list[tuple[Any, ...]]:
    """(account, window start, n, total, distinct, base) of the windows where ``rule`` fires,
    repetition (``min_windows``) included."""
    w = _rule_where(compiler, rule)
    source = compiler.source(rule.where, rule.base, rule.absent)
    bucket = f"date_trunc('{window}', booked_at)"
    measures = [f"count(*) FILTER (WHERE {w}) AS n"]
    scan = [w]
    h = rule.having
    measures.append(f"sum(amount) FILTER (WHERE {w}) AS total" if "sum_gte" in h
                    else "NULL AS total")
    distinct = h.get("distinct")
    if distinct:
        column = distinct["column"]
        if column == "mcc_category":
            column = compiler.category_case(list(rule.where["mcc_category"]))
        measures.append(f"count(DISTINCT {column}) FILTER (WHERE {w}) AS distinct_n")
    else:
        measures.append("NULL AS distinct_n")
    if rule.base is not None:
        b = compiler.where(rule.base)
        scan.append(b)
        measures.append(f"count(*) FILTER (WHERE {b}) AS base_n")
    else:
        measures.append("NULL AS base_n")
    if rule.absent is not None:
        a = compiler.where(rule.absent)
        scan.append(a)
        measures.append(f"count(*) FILTER (WHERE {a}) AS absent_n")
    else:
        measures.append("0 AS absent_n")
    cond = ["n > 0"]
    if "count_gte" in h:
        cond.append(f"n >= {int(h['count_gte'])}")
    if "sum_gte" in h:
        cond.append(f"total >= {float(h['sum_gte'])}")
    if distinct:
        cond.append(f"distinct_n >= {int(distinct['gte'])}")
    if h.get("absent"):
        cond.append("absent_n = 0")
    if "share_gte" in h:
        cond.append(f"n >= {float(h['share_gte'])} * base_n")
    return con.execute(f"""
        SELECT account, ws, n, total, distinct_n, base_n FROM (
            SELECT *, count(*) OVER (PARTITION BY account) AS windows FROM (
                SELECT account, {bucket} AS ws, {', '.join(measures)}
                FROM {source} WHERE {' OR '.join(scan)} GROUP BY ALL)
            WHERE {' AND '.join(cond)})
        WHERE windows >= {int(rule.min_windows)}
        ORDER BY account, ws""").fetchall()


def _apply_min_windows(con: Any, rules: list[Rule], table: str) -> None:
    needs = [(i, r.min_windows) for i, r in enumerate(rules) if r.min_windows > 1]
    if not needs:
        return
    case = " ".join(f"WHEN {i} THEN {n}" for i, n in needs)
    con.execute(f"""
        DELETE FROM {table} WHERE (r, account) IN (
            SELECT r, account FROM {table} GROUP BY r, account
            HAVING count(*) < (CASE r {case} ELSE 1 END))""")


def _end(ws: datetime, window: str) -> datetime:
    from datetime import timedelta

    if window == "day":
        return ws + timedelta(days=1)
    if window == "week":
        return ws + timedelta(days=7)
    month = ws.month % 12 + 1
    return ws.replace(year=ws.year + (ws.month == 12), month=month)


def _hit(rule: Rule, account: int, ws: datetime, window: str, figures: dict[str, Any],
         evidence: Any, count: int) -> Hit:
    return Hit(rule.id, rule.version, int(account), ws, _end(ws, window), figures,
               tuple(evidence or ()), int(count))


_HOLDER_KEYS = frozenset({"customer_type", "business_type_in", "business_type_not_in",
                          "employees_gte", "observed"})


def _clause_keys(clause: dict[str, Any] | None) -> set[str]:
    keys: set[str] = set()
    for key, value in (clause or {}).items():
        keys.add(key)
        if key == "any":
            for sub in value:
                keys |= _clause_keys(sub)
    return keys


def _peer_shares(con: Any, compiler: Compiler, rule: Rule) -> bool:
    """Whether a peer rule's sums can come from the shared per-(account, window) table
    (``peer_sums``): its scope is on the holder's KYC fields alone and no transaction without
    a KYC row is in it, its measures are on the transactions' own fields, and each account
    has one KYC row. Then grouping the transactions first and joining the accounts after
    gives the groups and sums of the reference query, which joins before grouping."""
    if not rule.scope or not _clause_keys(rule.scope) <= _HOLDER_KEYS:
        return False
    if compiler.source(rule.numerator, rule.denominator) != "ff_tx0":
        return False
    without_kyc = con.execute(
        f"SELECT {compiler.where(rule.scope)} FROM (SELECT NULL::VARCHAR AS customer_type, "
        "NULL::VARCHAR AS business_type, NULL::INTEGER AS employees, "
        "NULL::VARCHAR AS observed)").fetchall()[0][0]
    return without_kyc is not True


def peer_sums(con: Any, compiler: Compiler, frames: Any,
              rules: list[Rule]) -> dict[str, tuple[str, int]]:
    """The sums of every peer rule that can share them (``_peer_shares``) per (account,
    window), in numpy over the fast path's frames (``peers.peer_table``), as a DuckDB table
    per window: rule id -> (table, measure number). The rules then join the accounts on
    these few hundred thousand groups instead of on every transaction. Empty without frames
    (the reference query runs)."""
    from ctip.finflows import peers

    if frames is None or not any(rule.kind == "peer" for rule in rules):
        return {}
    if not con.execute("SELECT count(*) = count(DISTINCT account) FROM accounts"
                       ).fetchall()[0][0]:
        return {}
    by_window: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.kind == "peer" and _peer_shares(con, compiler, rule):
            by_window.setdefault(rule.window or "month", []).append(rule)
    shared: dict[str, tuple[str, int]] = {}
    for window, group in by_window.items():
        table = f"ff_peer_{window}"
        con.register("__ff_peer", peers.peer_table(con, compiler, frames, group, window))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM __ff_peer")
        finally:
            con.unregister("__ff_peer")
        shared.update({rule.id: (table, i) for i, rule in enumerate(group)})
    return shared


def run_peer(con: Any, compiler: Compiler, rule: Rule,
             shared: dict[str, tuple[str, int]] | None = None) -> list[Hit]:
    """A measure per account and month against the median of its peers (same business type,
    same month): low payroll (F14-05) or far more cash than peers (T20-FC). ``shared``: the
    sums of ``peer_sums`` where the rule is in them."""
    h = rule.having
    window = rule.window or "month"
    bucket = f"date_trunc('{window}', booked_at)"
    scope = compiler.where(rule.scope)
    num = compiler.where(rule.numerator)
    cur = f"currency = {_q(compiler.rules.currency)}"
    den = compiler.where(rule.denominator) if rule.denominator else None
    x = ("coalesce(num, 0) / nullif(den, 0)" if den else "coalesce(num, 0)")
    cond = ["peers >= {}".format(int(h.get("peers_gte", 1)))]
    if "ratio_to_peer_lte" in h:
        cond.append(f"peer > 0 AND x <= {float(h['ratio_to_peer_lte'])} * peer")
    if "ratio_to_peer_gte" in h:
        cond.append(f"peer > 0 AND x >= {float(h['ratio_to_peer_gte'])} * peer")
    if "numerator_gte" in h:
        cond.append(f"coalesce(num, 0) >= {float(h['numerator_gte'])}")
    if "denominator_gte" in h:
        cond.append(f"den >= {float(h['denominator_gte'])}")
    den_measure = f", sum(amount) FILTER (WHERE {den}) AS den" if den else ""
    # the narrowest view with the holder's KYC (business_type): the counterparty's join is
    # needed only when a clause asks for it
    source = compiler.source(rule.scope, rule.numerator, rule.denominator)
    source = "ff_txa" if source == "ff_tx0" else source
    grouped = f"""
            SELECT account, business_type, {bucket} AS ws,
                   sum(amount) FILTER (WHERE {num}) AS num {den_measure}
            FROM {source} WHERE {scope} AND {cur} GROUP BY ALL"""
    if shared and rule.id in shared:
        table, i = shared[rule.id]
        grouped = f"""
            SELECT p.account, a.business_type, p.ws, p.num_{i} AS num
                   {f', p.den_{i} AS den' if den else ''}
            FROM {table} p JOIN accounts a ON a.account = p.account WHERE {scope}"""
        source = "ff_tx0"  # the evidence's clauses are on the transactions' own fields
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ff_fired AS
        WITH m AS ({grouped}),
        p AS (SELECT *, {x} AS x FROM m),
        q AS (SELECT *, median(x) OVER (PARTITION BY business_type, ws) AS peer,
                     count(*) OVER (PARTITION BY business_type, ws) AS peers FROM p)
        SELECT 0 AS r, account, ws, x, peer, peers, num, {'den' if den else 'NULL'} AS den
        FROM q WHERE {' AND '.join(cond)}""")
    _apply_min_windows(con, [rule], "ff_fired")
    evidence_where = f"({num}{f' OR {den}' if den else ''})"
    rows = con.execute(f"""
        SELECT f.account, f.ws, any_value(f.x), any_value(f.peer), any_value(f.peers),
               any_value(f.num), any_value(f.den),
               list(t.txn_id ORDER BY t.booked_at, t.txn_id)
                   FILTER (WHERE {evidence_where})[1:{EVIDENCE_CAP}],
               count(t.txn_id) FILTER (WHERE {evidence_where})
        FROM ff_fired f
        JOIN (SELECT * FROM {source} WHERE account IN (SELECT account FROM ff_fired)) t
             ON t.account = f.account AND date_trunc('{window}', t.booked_at) = f.ws
        GROUP BY f.account, f.ws ORDER BY f.account, f.ws""").fetchall()
    hits = []
    for account, ws, x, peer, peers, numv, denv, evidence, count in rows:
        figures = {"measure": round(float(x or 0), 4), "peer_median": round(float(peer), 4),
                   "peers": int(peers), "numerator": round(float(numv or 0), 2)}
        if denv is not None:
            figures["denominator"] = round(float(denv), 2)
        hits.append(_hit(rule, account, ws, window, figures, evidence, count))
    return hits


def lag_microseconds(con: Any, lag_hours: float) -> int:
    """``INTERVAL lag HOUR`` as DuckDB reads it, in microseconds."""
    return int(con.execute(
        f"SELECT epoch_us(TIMESTAMP '2000-01-01' + INTERVAL {float(lag_hours)} HOUR) "
        "- epoch_us(TIMESTAMP '2000-01-01')").fetchall()[0][0])


def wage_tables(con: Any, compiler: Compiler, frames: Any,
                rules: list[Rule]) -> dict[Any, Any]:
    """The fast path's joins, made while the frames are at hand: ``ff_wage_out``'s rows
    (``wages.wage_events``) for each lag the pass-through and collector rules use (key: the
    lag), and each funnel rule's pairs (``wages.funnel_pairs``; key: the rule id)."""
    from ctip.finflows import wages

    tables: dict[Any, Any] = {}
    if frames is None:
        return tables
    for rule in rules:
        made = None
        if rule.kind in ("pass_through", "collector"):
            key: Any = float(rule.thresholds["lag_hours"])
            if key not in tables:
                made = wages.wage_events(frames, lag_microseconds(con, key))
        elif rule.kind == "funnel":
            key, t = rule.id, rule.thresholds
            made = wages.funnel_pairs(frames, lag_microseconds(con, float(t["lag_hours"])),
                                      float(t["reporting_threshold"]),
                                      compiler.rules.currency)
        if made is not None:
            tables[key] = made
    return tables


def _wage_events(con: Any, rule: Rule, made_fast: dict[float, Any] | None = None) -> None:
    """``ff_wage_out``: each salary credit with the outflows of the same account in the
    following ``lag_hours`` (joined on account and day, so the join stays small), or the
    same rows made in numpy (``made_fast``, by lag)."""
    lag = float(rule.thresholds["lag_hours"])
    days = int(lag // 24) + 1
    made = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'ff_wage_out'"
                       ).fetchall()
    if made and made[0][0] == f"lag {lag}":
        return  # A18-02 and T20-EE share the join when their lags agree
    table = (made_fast or {}).pop(lag, None)  # DuckDB's copy is what the rules read
    if table is not None:
        con.register("__ff_wage_out", table)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE ff_wage_out AS "
                        "SELECT * FROM __ff_wage_out")
        finally:
            con.unregister("__ff_wage_out")
        con.execute(f"COMMENT ON TABLE ff_wage_out IS 'lag {lag}'")
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ff_wage_out AS
        WITH w AS (SELECT account, txn_id, booked_at, amount FROM tx
                   WHERE direction = 'in' AND purpose = 'SALA'),
        wd AS (SELECT w.*, CAST(w.booked_at AS DATE) + CAST(k AS INTEGER) AS d
               FROM w, range(0, {days + 1}) r(k)),
        o AS (SELECT account, txn_id, booked_at, amount, counterparty,
                     CAST(booked_at AS DATE) AS d FROM tx WHERE direction = 'out')
        SELECT wd.account, wd.txn_id AS wage_id, wd.booked_at AS wage_at, wd.amount AS wage,
               o.txn_id AS out_id, o.booked_at AS out_at, o.amount AS out_amount,
               o.counterparty
        FROM wd JOIN o ON o.account = wd.account AND o.d = wd.d
        WHERE o.booked_at >= wd.booked_at
          AND o.booked_at <= wd.booked_at + INTERVAL {lag} HOUR""")
    con.execute(f"COMMENT ON TABLE ff_wage_out IS 'lag {lag}'")


def run_pass_through(con: Any, rule: Rule,
                     made_fast: dict[float, Any] | None = None) -> list[Hit]:
    """A18-02: most of a wage leaves within hours, in ``min_windows`` months or more."""
    _wage_events(con, rule, made_fast)
    ratio = float(rule.thresholds["min_ratio"])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ff_fired AS
        WITH e AS (SELECT account, wage_id, any_value(wage_at) AS wage_at, any_value(wage) AS wage,
                          sum(out_amount) AS moved, list(out_id ORDER BY out_at, out_id) AS outs
                   FROM ff_wage_out GROUP BY account, wage_id
                   HAVING sum(out_amount) >= {ratio} * any_value(wage))
        SELECT 0 AS r, account, date_trunc('month', wage_at) AS ws, count(*) AS wages,
               sum(wage) AS wage_total, sum(moved) AS moved_total,
               flatten(list([wage_id] || outs ORDER BY wage_at, wage_id)) AS ids
        FROM e GROUP BY ALL""")
    _apply_min_windows(con, [rule], "ff_fired")
    rows = con.execute("SELECT account, ws, wages, wage_total, moved_total, ids FROM ff_fired "
                       "ORDER BY account, ws").fetchall()
    return [_hit(rule, a, ws, "month",
                 {"wages_passed_on": int(n), "wages": round(float(wt), 2),
                  "moved_out": round(float(mt), 2),
                  "moved_share": round(float(mt) / float(wt), 3) if wt else 0.0},
                 list(ids)[:EVIDENCE_CAP], len(ids))
            for a, ws, n, wt, mt, ids in rows]


def run_collector(con: Any, rule: Rule,
                  made_fast: dict[float, Any] | None = None) -> list[Hit]:
    """T20-EE: several accounts pass a wage on to the same counterparty in one month; the
    collector and each account that paid it are flagged, with the wages and transfers."""
    _wage_events(con, rule, made_fast)
    ratio = float(rule.thresholds["min_ratio"])
    sources = int(rule.thresholds["min_sources"])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ff_collect AS
        WITH e AS (SELECT account, wage_id, counterparty, any_value(wage) AS wage,
                          any_value(wage_at) AS wage_at, sum(out_amount) AS moved,
                          list(out_id ORDER BY out_at, out_id) AS outs
                   FROM ff_wage_out WHERE counterparty IS NOT NULL
                   GROUP BY account, wage_id, counterparty
                   HAVING sum(out_amount) >= {ratio} * any_value(wage)),
        c AS (SELECT counterparty, date_trunc('month', wage_at) AS ws FROM e
              GROUP BY ALL HAVING count(DISTINCT account) >= {sources})
        SELECT e.*, c.ws FROM e JOIN c ON c.counterparty = e.counterparty
             AND date_trunc('month', e.wage_at) = c.ws""")
    rows = con.execute("""
        SELECT counterparty AS account, ws, count(DISTINCT account), sum(moved),
               flatten(list([wage_id] || outs ORDER BY wage_at, wage_id))
        FROM ff_collect GROUP BY ALL
        UNION ALL
        SELECT account, ws, 1, sum(moved), flatten(list([wage_id] || outs ORDER BY wage_at,
               wage_id))
        FROM ff_collect GROUP BY ALL
        ORDER BY 1, 2""").fetchall()
    merged: dict[tuple[int, datetime], list[Any]] = {}
    for account, ws, n, moved, ids in rows:
        slot = merged.setdefault((account, ws), [0, 0.0, []])
        slot[0] = max(slot[0], int(n))
        slot[1] += float(moved)
        slot[2] += list(ids)
    hits = []
    for (account, ws), (n, moved, ids) in sorted(merged.items()):
        ids = sorted(set(ids))
        hits.append(_hit(rule, account, ws, "month",
                         {"paying_accounts": n, "moved": round(moved, 2)},
                         ids[:EVIDENCE_CAP], len(ids)))
    return hits


def run_funnel(con: Any, compiler: Compiler, rule: Rule,
               made_fast: dict[Any, Any] | None = None) -> list[Hit]:
    """T20-FA: sub-threshold cash deposits in one region, cash withdrawn in another soon after.
    ``made_fast``: the pairs made in numpy (``wages.funnel_pairs``), by rule id."""
    t = rule.thresholds
    lag = float(t["lag_hours"])
    days = int(lag // 24) + 1
    cur = _q(compiler.rules.currency)
    pairs = (made_fast or {}).pop(rule.id, None)
    if pairs is not None:
        con.register("__ff_funnel_pairs", pairs)
        try:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE ff_fired AS
                SELECT 0 AS r, account, date_trunc('month', dep_at) AS ws, count(*) AS pairs,
                       count(DISTINCT r1) AS dep_regions, count(DISTINCT r2) AS wd_regions,
                       list(DISTINCT dep_id) || list(DISTINCT wd_id) AS ids
                FROM __ff_funnel_pairs GROUP BY ALL HAVING count(*) >= {int(t['min_pairs'])}""")
        finally:
            con.unregister("__ff_funnel_pairs")
    else:
        _funnel_sql(con, t, lag, days, cur)
    rows = con.execute("SELECT account, ws, pairs, dep_regions, wd_regions, ids FROM ff_fired "
                       "ORDER BY account, ws").fetchall()
    hits = []
    for account, ws, pairs_n, r1, r2, ids in rows:
        ids = sorted(set(ids))
        hits.append(_hit(rule, account, ws, "month",
                         {"deposit_withdrawal_pairs": int(pairs_n), "deposit_regions": int(r1),
                          "withdrawal_regions": int(r2)}, ids[:EVIDENCE_CAP], len(ids)))
    return hits


def _funnel_sql(con: Any, t: dict[str, Any], lag: float, days: int, cur: str) -> None:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ff_fired AS
        WITH dep AS (SELECT account, txn_id, booked_at, region FROM tx
                     WHERE direction = 'in' AND channel = 'cash' AND region IS NOT NULL
                       AND amount < {float(t['reporting_threshold'])} AND currency = {cur}),
        dd AS (SELECT dep.*, CAST(booked_at AS DATE) + CAST(k AS INTEGER) AS d
               FROM dep, range(0, {days + 1}) r(k)),
        wd AS (SELECT account, txn_id, booked_at, region, CAST(booked_at AS DATE) AS d
               FROM tx WHERE direction = 'out' AND channel = 'cash' AND region IS NOT NULL),
        p AS (SELECT dd.account, dd.txn_id AS dep_id, wd.txn_id AS wd_id, dd.booked_at AS dep_at,
                     dd.region AS r1, wd.region AS r2
              FROM dd JOIN wd ON wd.account = dd.account AND wd.d = dd.d
              WHERE wd.region <> dd.region AND wd.booked_at >= dd.booked_at
                AND wd.booked_at <= dd.booked_at + INTERVAL {lag} HOUR)
        SELECT 0 AS r, account, date_trunc('month', dep_at) AS ws, count(*) AS pairs,
               count(DISTINCT r1) AS dep_regions, count(DISTINCT r2) AS wd_regions,
               list(DISTINCT dep_id) || list(DISTINCT wd_id) AS ids
        FROM p GROUP BY ALL HAVING count(*) >= {int(t['min_pairs'])}""")


def run_identifier_list(con: Any, rule: Rule) -> list[Hit]:
    """F20-06: an identifier of the account holder is on the given list (keys pseudonymised
    with the same key, so nothing is compared in clear)."""
    rows = con.execute(f"""
        SELECT a.account, list(DISTINCT i.kind ORDER BY i.kind), count(DISTINCT i.key),
               (SELECT min(booked_at) FROM tx), (SELECT max(booked_at) FROM tx)
        FROM identifiers i
        JOIN ff_list_identifier l ON l.key = i.key AND l.list = {_q(rule.list or '')}
        JOIN accounts a ON a.party = i.party
        GROUP BY a.account ORDER BY a.account""").fetchall()
    return [Hit(rule.id, rule.version, int(a), start, end,
                {"identifier_kinds": list(kinds), "identifiers_listed": int(n)}, (), 0)
            for a, kinds, n, start, end in rows if start is not None]


Runner = Callable[[Any, Compiler, Rule], list[Hit]]


def run_rules(con: Any, rules: RuleSet, *, graph_runner: Runner | None = None,
              only: set[str] | None = None,
              on_step: Callable[[str], None] | None = None,
              reference: bool = False) -> DetectResult:
    """Every runnable rule over ``tx``; rules whose inputs or lists are missing are reported
    as not assessed instead of silently finding nothing. ``reference`` runs the aggregate
    rules one SQL query each instead of in numpy (the same hits; for tests)."""
    with fast.small_pages():
        return _run_rules(con, rules, graph_runner, only, on_step, reference)


def _run_rules(con: Any, rules: RuleSet, graph_runner: Runner | None, only: set[str] | None,
               on_step: Callable[[str], None] | None, reference: bool) -> DetectResult:
    import time

    result = DetectResult()
    frames = None if reference else fast.frames_for(con)
    fast.forget(con)  # the registry holds no frames past the run
    counts: dict[str, int] = {}
    present = present_columns(con, counts, frames)
    result.transactions, result.accounts = counts["transactions"], counts["accounts"]
    sizes = list_sizes(con)
    compiler = Compiler(rules)
    started = time.perf_counter()
    prepare(con, rules)
    result.timings["prepare"] = time.perf_counter() - started
    todo: list[Rule] = []
    for rule in rules.running:
        if only is not None and rule.id not in only:
            continue
        missing = sorted(needed_columns(rule) - present)
        empty = sorted(name for name in rule.lists_used() if not sizes.get(name))
        if missing:
            result.not_assessed[rule.id] = "the data has no " + ", ".join(missing)
        elif empty:
            result.not_assessed[rule.id] = "needs the list " + ", ".join(empty)
        else:
            todo.append(rule)
    if on_step:
        on_step("peer sums")
    started = time.perf_counter()
    # before the aggregates: the month's group ids are made once for both
    shared = peer_sums(con, compiler, frames, todo)
    result.timings["peer_sums"] = time.perf_counter() - started
    for window in ("month", "week", "day"):
        group = [r for r in todo if r.kind == "aggregate" and r.window == window]
        if group:
            if on_step:
                on_step(f"{len(group)} {window} rules")
            started = time.perf_counter()
            result.hits += run_aggregates(con, compiler, group, window, frames)
            result.timings[f"aggregate_{window}"] = time.perf_counter() - started
    if on_step:
        on_step("wage and funnel joins")
    started = time.perf_counter()
    wage_rows = wage_tables(con, compiler, frames, todo)
    frames = None  # the numpy columns are not needed past the aggregates (memory)
    result.timings["wage_funnel_joins"] = time.perf_counter() - started
    special = {"peer": lambda c, comp, r: run_peer(c, comp, r, shared),
               "pass_through": lambda c, comp, r: run_pass_through(c, r, wage_rows),
               "collector": lambda c, comp, r: run_collector(c, r, wage_rows),
               "funnel": lambda c, comp, r: run_funnel(c, comp, r, wage_rows),
               "identifier_list": lambda c, comp, r: run_identifier_list(c, r)}
    for rule in todo:
        if rule.kind == "aggregate":
            continue
        if on_step:
            on_step(rule.id)
        started = time.perf_counter()
        if rule.kind in special:
            result.hits += special[rule.kind](con, compiler, rule)
        elif graph_runner is not None:
            result.hits += graph_runner(con, compiler, rule)
        else:
            result.not_assessed[rule.id] = "graph patterns were not run"
        result.timings[rule.id] = time.perf_counter() - started
    result.hits.sort(key=lambda h: (h.account, h.rule_id, h.window_start))
    return result


def load_frames(con: Any, tx: Any, accounts: Any, identifiers: Any) -> None:
    """Register ``tx``, ``accounts`` and ``identifiers`` from Arrow tables or record-batch
    readers with the columns of ``frames`` (extra columns dropped, types cast in Arrow).
    Registered, not copied: DuckDB scans the Arrow memory in place."""
    import pyarrow as pa

    from ctip.finflows.frames import ACCOUNT_COLUMNS, ANALYTIC_COLUMNS, IDENTIFIER_COLUMNS

    types = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("us"), "BOOLEAN": pa.bool_(),
             "DOUBLE": pa.float64(), "BIGINT": pa.int64(), "INTEGER": pa.int32()}
    tables = {}
    for name, data, columns in (("tx", tx, ANALYTIC_COLUMNS),
                                ("accounts", accounts, ACCOUNT_COLUMNS),
                                ("identifiers", identifiers, IDENTIFIER_COLUMNS)):
        table = data.read_all() if hasattr(data, "read_all") else data
        schema = pa.schema([(c, types[t]) for c, t in columns.items()])
        table = table.select(list(columns)).cast(schema)
        if name == "tx":
            # codes with few distinct values as dictionaries: DuckDB then filters on the small
            # dictionary instead of comparing ten million strings (about twice as fast)
            for column in DICTIONARY_COLUMNS:
                index = table.schema.get_field_index(column)
                table = table.set_column(index, column, table.column(column).dictionary_encode())
        con.register(name, table)
        tables[name] = table
    fast.remember(con, tables["tx"], tables["accounts"])
