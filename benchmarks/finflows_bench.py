"""Financial-flow rules at scale: every rule and graph pattern over 10 million transactions.

What is timed is the code `ctip finflows run` runs after it has loaded the agency's frames
(``detect.run_rules`` with the graph runner, then ``score.score_accounts``), on the seeded
synthetic bank (not the data the thresholds were set on: another seed). The baseline, measured
in the same run on the same table, is one DuckDB GROUP BY (account, month) with a count and a
sum. Printed: transactions/s for the rules, the ratio of the rules' time to the baseline's,
the full run, peak memory (RSS of this process) and the machine's load.

Also printed for the product path: a store -> DuckDB load through ADBC and the import rate of
`ctip finflows import` on a smaller file (importing 10 million rows through sealing is a
separate, slower job; see docs/methods/finflows.md).

    python benchmarks/finflows_bench.py [--transactions 10000000] [--seed 99]

Targets (2 cores): rules >= 1,000,000 tx/s, full run < 60 s, peak memory < 4 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time

import duckdb
import psutil

from ctip.finflows import detect, graph, score, synthetic
from ctip.finflows.rules import shipped_rules


def cpu_seconds() -> float:
    """CPU time (user + system) of this process, every thread (DuckDB's workers) included, and
    of its children: on a shared machine the figure that does not depend on the others' load."""
    t = psutil.Process().cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


class Sampler(threading.Thread):
    """The highest RSS of this process while the run is timed (sampled every 50 ms)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.done = psutil.Process(), 0, False

    def run(self) -> None:
        while not self.done:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args()
    customers = max(1000, args.transactions // 268)  # about 268 transactions per customer
    print(f"load before: {os.getloadavg()}  cpus: {psutil.cpu_count()}")
    started = time.perf_counter()
    bank = synthetic.generate(customers, seed=args.seed)
    tx, accounts, identifiers = bank.analytic()
    generated = time.perf_counter() - started
    print(f"generated {bank.size:,} transactions of {customers:,} customers in "
          f"{generated:.1f} s (not timed below)")
    del bank.columns
    con = duckdb.connect()
    detect.load_frames(con, tx, accounts, identifiers)
    lists = synthetic.lists_for_rules(bank)
    detect.load_lists(con, **lists)
    rules = shipped_rules()
    t0, c0 = time.perf_counter(), cpu_seconds()
    con.execute("SELECT account, date_trunc('month', booked_at) AS m, count(*), sum(amount) "
                "FROM tx GROUP BY ALL").fetchall()
    baseline, baseline_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    load_during = os.getloadavg()
    sampler = Sampler()
    rss_before = sampler.process.memory_info().rss / 2**30
    sampler.start()
    marks: list[tuple[str, float]] = []  # CPU time at the start of each step
    t0, c0 = time.perf_counter(), cpu_seconds()
    result = detect.run_rules(con, rules, graph_runner=graph.run_graph,
                              on_step=lambda name: marks.append((name, cpu_seconds())))
    marks.append(("end", cpu_seconds()))
    alerts = score.score_accounts(result.hits, rules)
    full, full_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    sampler.done = True
    sampler.join()
    t1 = time.perf_counter()
    con.execute("SELECT account, date_trunc('month', booked_at) AS m, count(*), sum(amount) "
                "FROM tx GROUP BY ALL").fetchall()
    baseline_after = time.perf_counter() - t1
    graph_kinds = {"scatter_gather", "cycle", "shared_identifiers"}
    graph_time = sum(v for k, v in result.timings.items()
                     if k in {r.id for r in rules.running if r.kind in graph_kinds})
    rules_time = full - graph_time
    graph_ids = {r.id for r in rules.running if r.kind in graph_kinds}
    graph_cpu = sum(b - a for (name, a), (_, b) in zip(marks, marks[1:], strict=False)
                    if name in graph_ids)
    rules_cpu = full_cpu - graph_cpu
    base = min(baseline, baseline_after)
    n = result.transactions
    ev = synthetic.evaluate(bank, alerts, rules)
    print(f"load during: {load_during}  after: {os.getloadavg()}")
    print(f"baseline: one DuckDB GROUP BY over {n:,} rows: {base:.2f} s "
          f"({n / base:,.0f} rows/s; before {baseline:.2f} s, after {baseline_after:.2f} s; CPU "
          f"time before {baseline_cpu:.2f} s)")
    print(f"rules (all {len(rules.running) - len(graph_kinds)} non-graph rules + scoring): "
          f"{rules_time:.1f} s = {n / rules_time:,.0f} tx/s = {rules_time / base:.1f} x the "
          f"GROUP BY  [target >= 1,000,000 tx/s]; CPU time {rules_cpu:.1f} s (all threads; "
          f"{n / rules_cpu:,.0f} tx per CPU-second; {n / (rules_cpu / 2):,.0f} tx/s if spread "
          f"over 2 idle cores)")
    print(f"graph patterns (scatter-gather, cycles, shared identifiers): {graph_time:.1f} s; "
          f"CPU time {graph_cpu:.1f} s")
    print(f"full run (rules + graph + scores): {full:.1f} s = {n / full:,.0f} tx/s = "
          f"{full / base:.1f} x the GROUP BY  [target < 60 s]; CPU time {full_cpu:.1f} s "
          f"(all threads; {full_cpu / 2:.1f} s if spread over 2 idle cores)")
    print(f"peak memory (RSS) during the run: {sampler.peak / 2**30:.2f} GB (frames loaded "
          f"before it: {rss_before:.2f} GB)  [target < 4 GB]; peak of the whole process, "
          f"generator included: {peak_rss_gb():.2f} GB")
    print(f"hits {len(result.hits):,}; alerts {len(alerts):,} = {ev['alerts_per_10k']:.0f} per "
          f"10,000 accounts; precision (any typology) {ev['precision_any']:.2f}, recall "
          f"{ev['recall_any']:.2f}; not assessed: {result.not_assessed or 'none'}")
    slow = sorted(result.timings.items(), key=lambda kv: -kv[1])[:8]
    print("slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow))


if __name__ == "__main__":
    main()
