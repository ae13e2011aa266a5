"""Follow-up scoring benchmark: all 176 GSI 2023 countries with explanations, against baselines.

Target (issue 19): scoring all 176 GSI countries with explanations < 1 s on 2 cores.

Measured in one run (median of ``--repeat`` runs each, this process, one core):
- **product, scoring**: ``gsi.score_all(..., explain=True)``: every activity, milestone and total
  of 176 countries with every step written out (what ``ctip followup gsi --explain`` scores);
- **product, command**: ``ctip followup gsi --data DIR --json`` run in-process through the Typer
  app (reads the four CSV files, scores with explanations, compares with the published ratings);
- **product, declaration**: 176 synthetic countries' evidence for the 44-row catalogue (data the
  engine was not tuned to: random indicators, values, grades and dates), each scored from its
  inputs into a canonical snapshot with explanations (``cycles.snapshot``);
- **baseline, pandas roll-up**: the same activity rule and totals as a vectorised pandas
  group-by over the indicator ratings, with no explanations, confidence or recode: the least the
  arithmetic costs in a well-kept dataframe library;
- **baseline, CSV read**: ``csv.DictReader`` of the indicator ratings file alone.
Also the ``ctip followup gsi`` command as a fresh process (interpreter and imports included).

    python benchmarks/followup_bench.py [--data ../shared/data/gsi-2023-govt-response]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner

from ctip.cli import app
from ctip.followup import catalogue, cycles, gsi
from ctip.followup.model import Evidence
from ctip.services.followup_gsi import FILES, load

REPO = Path(__file__).resolve().parents[1]


def _default_data() -> Path:
    shared = Path(os.environ.get("CTIP_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not shared.is_dir():
        shared = REPO.parents[1] / "shared" / "data"
    return shared / "gsi-2023-govt-response"


def timed(fn: Callable[[], Any], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def pandas_rollup(folder: Path) -> pd.Series:
    fw = pd.read_csv(folder / FILES["framework"], usecols=["indicator_code", "milestone",
                                                          "activity", "negative"])
    ratings = pd.read_csv(folder / FILES["indicators"], usecols=["country", "indicator_code",
                                                                 "rating"])
    data = ratings.merge(fw, on="indicator_code")
    data["unit"] = data["milestone"].astype(str) + "." + data["activity"].astype(str)
    data["pos"] = data["negative"] == 0
    data["pos_met"] = data["pos"] & (data["rating"] == 1)
    data["neg_met"] = ~data["pos"] & (data["rating"] == -1)
    g = data.groupby(["country", "unit"]).agg(n_pos=("pos", "sum"), met=("pos_met", "sum"),
                                              neg=("neg_met", "any"))
    rating = pd.Series(0, index=g.index)
    rating[(g["n_pos"] > 0) & (g["met"] > 0)] = 1
    rating[(g["n_pos"] > 0) & (g["met"] == g["n_pos"]) & ~g["neg"]] = 2
    rating[(g["n_pos"] == 0) & g["neg"]] = -2
    points = rating.groupby(level="country").sum()
    return points / 78 * 100


def synthetic_inputs(countries: int, seed: int = 19) -> list[dict[str, Any]]:
    fw, rules = catalogue.declaration(), catalogue.rule_set()
    rng = random.Random(seed)
    codes = sorted(fw.indicators)
    out = []
    for n in range(countries):
        items = []
        for k, code in enumerate(rng.sample(codes, rng.randint(10, len(codes)))):
            kind = rules.rule_for(fw.indicators[code])["kind"]
            value = rng.choice(["yes", "no"]) if kind == "binary" else str(rng.randint(0, 100))
            items.append(Evidence(f"e{n:03d}-{k:03d}", code, value,
                                  as_of=f"20{rng.randint(20, 27)}-0{rng.randint(1, 9)}-15",
                                  source=rng.choice("ABCX"), credibility=rng.choice("1234"),
                                  citation="synthetic"))
        info = cycles.CycleInfo(f"C{n:03d}-2025-2028", f"C{n:03d}", "2025-01-01", "2028-12-31")
        out.append(cycles.inputs(fw, rules, info, items))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_default_data())
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not (args.data / FILES["indicators"]).is_file():
        sys.exit(f"GSI 2023 files not found in {args.data} (give --data)")
    data = load(args.data)
    rules = gsi.rules(True)
    fw, dec_rules = catalogue.declaration(), catalogue.rule_set()
    inputs = synthetic_inputs(len(data.ratings))
    runner = CliRunner()

    def command() -> None:
        result = runner.invoke(app, ["followup", "gsi", "--data", str(args.data), "--json"])
        assert result.exit_code == 0, result.output

    results = gsi.score_all(data.framework, rules, data.ratings, explain=True)
    rep = gsi.compare(results, data.activities, data.milestones)
    steps = sum(len(r["steps"]) for r in results.values())
    figures = {
        "product, scoring 176 countries with explanations": timed(
            lambda: gsi.score_all(data.framework, rules, data.ratings, explain=True),
            args.repeat),
        "product, scoring without explanations": timed(
            lambda: gsi.score_all(data.framework, rules, data.ratings, explain=False),
            args.repeat),
        "product, `ctip followup gsi --json` in-process": timed(command, args.repeat),
        "product, 176 synthetic declaration snapshots": timed(
            lambda: [cycles.snapshot(fw, dec_rules, i) for i in inputs], args.repeat),
        "baseline, pandas roll-up (no explanations)": timed(
            lambda: pandas_rollup(args.data), args.repeat),
        "baseline, csv read of the ratings": timed(
            lambda: list(csv.DictReader((args.data / FILES["indicators"]).open())),
            args.repeat),
    }
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ctip", "followup", "gsi", "--data", str(args.data),
                    "--json"], check=True, capture_output=True)
    fresh = time.perf_counter() - start
    base = figures["baseline, pandas roll-up (no explanations)"]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs; median of {args.repeat} runs")
    print(f"reproduction: {rep.activities_matched:,}/{rep.activities:,} activities, "
          f"{rep.totals_matched}/{rep.countries} totals; {steps:,} explanation steps")
    for name, seconds in figures.items():
        print(f"{name:<52} {seconds * 1000:9.1f} ms   x{seconds / base:5.2f} of pandas roll-up")
    print(f"{'`ctip followup gsi --json`, fresh process':<52} {fresh * 1000:9.1f} ms")
    target = figures["product, scoring 176 countries with explanations"]
    print(f"target < 1 s for 176 countries with explanations: "
          f"{'met' if target < 1.0 else 'MISSED'} ({target:.3f} s)")


if __name__ == "__main__":
    main()
