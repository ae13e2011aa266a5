"""Linkage on a population the model was not tuned to (issue 11 item 3), through the CLI path.

    python benchmarks/population_bench.py                 # 3 seeds, 2,500 people drawn
    python benchmarks/population_bench.py --people 1200 --seeds 1,2

For each seed, ``ctip.linkage.population`` (the second, independent generator: Arabic,
Cyrillic, Chinese, West African and South Asian names with their romanisation variants,
families, namesakes, missing and approximate dates of birth) writes four agencies' canonical
CSV files; then ``ctip import`` each, ``ctip link run``, ``ctip link export`` and
``ctip link histories``. Printed: records, true people, people found, pairwise precision and
recall of the exported clusters, and the multiple systems estimate (``ctip estimate``, the same
method on both) from the linked lists beside the estimate from the true people (the peer:
perfect linkage), and the estimate corrected for linkage errors (``ctip estimate
--linkage-run latest``: ``N corr``, ``corr``; ``missed^`` and ``false^`` are the rates the run
estimated itself: the share of true pairs between lists not linked directly, and the expected
false links). Targets: precision and recall >= 0.95; estimate within 10% of the truth's.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections import Counter
from pathlib import Path

from cli_path import ctip, run_cli_path

from ctip.linkage import population
from ctip.linkage.evaluation import export_pairs, quality, truth_pairs, write_rows


def true_histories(pop: population.Population, path: Path) -> None:
    lists = list(pop.rows)
    seen: dict[int, set[str]] = {}
    for (agency, _), person in pop.truth.items():
        seen.setdefault(person, set()).add(agency)
    counts = Counter(tuple(int(a in s) for a in lists) for s in seen.values())
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*lists, "count"])
        for pattern, n in sorted(counts.items()):
            writer.writerow([*pattern, n])


def one(seed: int, people: int, method: str, rates: population.Rates) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"ctip-pop{seed}-"))
    pop = population.generate(people, seed=seed, rates=rates)
    files = []
    for agency, rows in pop.rows.items():
        path = work / f"{agency}.csv"
        write_rows(path, population.COLUMNS, rows)
        files.append((agency, path))
    run = run_cli_path(files, work)
    q = quality(export_pairs(run.exported), truth_pairs(pop.truth))
    linked, true = work / "linked.csv", work / "true.csv"
    ctip(run.home, "link", "histories", "--out", str(linked))
    true_histories(pop, true)
    quiet = "--no-sensitivity"  # the one method's figure is compared; the range is not needed
    est_linked = ctip(run.home, "estimate", str(linked), "--method", method, quiet)
    est_fixed = ctip(run.home, "estimate", str(linked), "--method", method, quiet,
                     "--linkage-run", "latest")
    est_true = ctip(run.home, "estimate", str(true), "--method", method, quiet)
    errors = est_fixed["details"]["linkage_correction"]["errors"]
    return {
        "seed": seed, "records": len(pop.truth), "people": len(set(pop.truth.values())),
        "found": run.run["people"], "precision": q.precision, "recall": q.recall,
        "linked": est_linked.get("estimate"), "true": est_true.get("estimate"),
        "corrected": est_fixed.get("estimate"), "missed": errors["missed_two_lists"],
        "false": errors["expected_false_links"],
        "seconds": run.seconds, "notices": len(run.run.get("notices", [])),
        "review": run.run["review_pairs"],
    }


def _rel(x: float | None, true: float | None) -> float:
    return (x - true) / true if x and true else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=2500, help="people drawn per seed")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--method", default="bic", help="`ctip estimate --method`")
    parser.add_argument("--dob-missing", type=float, default=Rates().dob_missing)
    parser.add_argument("--variant", type=float, default=Rates().variant)
    args = parser.parse_args()
    rates = Rates(dob_missing=args.dob_missing, variant=args.variant)
    print(f"second generator, {args.people} people drawn per seed, rates {rates}; CLI path "
          f"(import -> link run -> export); estimate `ctip estimate --method {args.method}`",
          flush=True)
    print(f"{'seed':>4} {'records':>7} {'people':>6} {'found':>6} {'precision':>9} "
          f"{'recall':>6} {'N linked':>9} {'N corr':>7} {'N truth':>8} {'diff':>6} {'corr':>6} "
          f"{'missed^':>7} {'false^':>6} {'review':>6} "
          f"{'notices':>7} {'link s':>6}")
    for seed in (int(s) for s in args.seeds.split(",")):
        r = one(seed, args.people, args.method, rates)
        print(f"{r['seed']:4d} {r['records']:7d} {r['people']:6d} {r['found']:6d} "
              f"{r['precision']:9.4f} {r['recall']:6.4f} {r['linked'] or 0:9.0f} "
              f"{r['corrected'] or 0:7.0f} {r['true'] or 0:8.0f} "
              f"{_rel(r['linked'], r['true']):+6.1%} {_rel(r['corrected'], r['true']):+6.1%} "
              f"{r['missed']:7.3f} {r['false']:6.1f} "
              f"{r['review']:6d} {r['notices']:7d} "
              f"{r['seconds']:6.1f}", flush=True)


Rates = population.Rates

if __name__ == "__main__":
    main()
