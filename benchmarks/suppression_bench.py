"""Benchmark: information lost to secondary suppression, heuristic against the optimum.

    python benchmarks/suppression_bench.py            # the demo's report tables
    python benchmarks/suppression_bench.py --home DIR # the tables of another ctip home

The demo's four agency files are imported into a temporary home (or DIR is read), the report's
tables are computed, and each is suppressed three ways: the hypercube heuristic alone (what ctip
did before), ctip's default ("auto": the cheaper of the heuristic and the optimal pattern), and
the peer: the optimal pattern (an integer programme solved by HiGHS through scipy, as
tau-ARGUS's "optimal" method), without size limit. Printed per table and in all: cells hidden
(small + complementary), the value hidden in complementary cells, the objective both minimise
(sum of value + 1 of each complementary cell; totals cost 1000 times more) and its ratio to the
optimum (target <= 1.2). Every pattern is checked by the LP attacker before it is counted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ctip.publish.suppression import with_margins  # noqa: E402
from ctip.services.statistics import publish  # noqa: E402
from ctip.stats.registry import StatTable, compute, table_spec  # noqa: E402
from ctip.stats.tables import victims_by  # noqa: E402

METHODS = ("hypercube", "auto", "optimal")


def report_tables(con) -> dict[str, StatTable]:  # type: ignore[no-untyped-def]
    """The tables of the report (services/reporting.py compute_figures), with their margins."""
    from ctip.stats.flows import flow_shares, flows
    from ctip.stats.sdg import sdg_16_2_2

    def stat(name: str, by: list[str], frame: pd.DataFrame) -> StatTable:
        return StatTable(table_spec(name), tuple(by), frame)

    return {
        "trend (year x victim group)": stat("victims", ["year", "victim_group"],
                                            victims_by(con, ["year", "victim_group"],
                                                       margins=True)),
        "age-sex pyramid": stat("victims-by-age-sex", ["sex", "age_band"],
                                victims_by(con, ["sex", "age_band"], margins=True)),
        "forms": stat("victims-by-form", ["unodc_form"],
                      victims_by(con, ["unodc_form"], margins=True)),
        "flows": stat("flows", [], flows(con)),
        "flow shares": stat("flow-shares", [], flow_shares(con, by=())),
        "disability": stat("victims-by-disability", ["disability"],
                           victims_by(con, ["disability"], margins=True)),
        "SDG 16.2.2": stat("sdg-16-2-2", [], sdg_16_2_2(con)),
        "data quality": compute(con, "data-quality"),
    }


def loss(table: StatTable, method: str, threshold: int) -> dict[str, float]:
    start = time.perf_counter()
    published = publish(table, threshold=threshold, method=method)
    seconds = time.perf_counter() - start
    frame = published.frame
    dims = list(published.dims)
    truth = table.frame[[*dims, "count"]].copy()
    if table.spec.name != "data-quality":  # margins the service put inside the table
        totals = with_margins(truth, dims=dims, total="total")
        truth = pd.concat([truth, totals], ignore_index=True)
    for d in dims:
        truth[d] = truth[d].astype(str)
    truth = truth.drop_duplicates(dims)
    shown = frame.assign(**{d: frame[d].astype(str) for d in dims})
    merged = shown.merge(truth[[*dims, "count"]].rename(columns={"count": "true"}), on=dims,
                         how="left")
    hidden = merged["suppressed"].astype(bool)
    small = merged["true"].between(1, threshold - 1)
    secondary = hidden & ~small
    margin = merged[dims].isin(["total", "_T", "all agencies"]).any(axis=1)
    cost = ((merged["true"] + 1) * margin.map({True: 1000.0, False: 1.0}))[secondary].sum()
    return {"cells": len(merged), "hidden": int(hidden.sum()), "secondary": int(secondary.sum()),
            "value": int(merged.loc[secondary, "true"].sum()), "cost": float(cost),
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, help="a ctip home (default: import the demo)")
    parser.add_argument("--threshold", type=int, default=5)
    args = parser.parse_args()

    from ctip.demo import demo_settings, shipped_files
    from ctip.services.home import init_home
    from ctip.services.importing import import_path
    from ctip.services.statistics import analytic_connection
    from ctip.storage.repository import CaseStore

    with tempfile.TemporaryDirectory() as tmp:
        settings = demo_settings(args.home or Path(tmp))
        if args.home is None:
            init_home(settings)
            for path in shipped_files():
                import_path(settings, path, profile="canonical", actor="bench")
        with CaseStore.open(settings, actor="bench") as store, analytic_connection(store) as con:
            tables = report_tables(con)
            rows = []
            for name, table in tables.items():
                for method in METHODS:
                    rows.append({"table": name, "method": method,
                                 **loss(table, method, args.threshold)})
    out = pd.DataFrame(rows)
    best = out[out["method"] == "optimal"].set_index("table")["cost"]
    out["x optimal"] = [r.cost / best[r.table] if best[r.table] else (1.0 if r.cost == 0
                        else float("inf")) for r in out.itertuples()]
    print(f"threshold {args.threshold}; peer: the optimal pattern (HiGHS integer programme)\n")
    print(f"{'table':28} {'method':10} {'cells':>6} {'hidden':>7} {'compl.':>7} "
          f"{'value':>7} {'cost':>9} {'x opt':>6} {'s':>6}")
    for r in out.itertuples():
        print(f"{r.table:28} {r.method:10} {r.cells:6} {r.hidden:7} {r.secondary:7} "
              f"{r.value:7} {r.cost:9.0f} {r[9]:6.2f} {r.seconds:6.2f}")
    print()
    for method in METHODS:
        part = out[out["method"] == method]
        ratio = part["cost"].sum() / best.sum() if best.sum() else 1.0
        print(f"all tables, {method:9}: {part['hidden'].sum():5} cells hidden "
              f"({part['secondary'].sum()} complementary, value {part['value'].sum():,}), "
              f"cost {part['cost'].sum():,.0f} = {ratio:.2f}x optimal; worst table "
              f"{part['x optimal'].max():.2f}x; {part['seconds'].sum():.1f} s")


if __name__ == "__main__":
    main()
