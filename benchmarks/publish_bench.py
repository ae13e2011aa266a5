"""Disclosure-control speed: suppression of national-size tables, k-anonymisation, a DP release.

Prints seconds and a ratio against a named baseline measured in the same run:
- suppression vs one pandas groupby building the same table with all its margins (``with_margins``);
- k-anonymisation (288-node lattice + local suppression) vs one pandas groupby over the 5
  quasi-identifiers at their most detailed level;
- a DP count table (OpenDP) vs a plain pandas value_counts of the same columns.

    python benchmarks/publish_bench.py [--records 100000] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "publish"))
from publish_helpers import analytic_victims  # noqa: E402

from ctip.publish.dp import PrivacyContext, PrivacyUnit  # noqa: E402
from ctip.publish.kanon import kanonymise  # noqa: E402
from ctip.publish.suppression import suppress, with_margins  # noqa: E402


def _timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _table(shape: tuple[int, ...], mean: float, rng: np.random.Generator) -> pd.DataFrame:
    dims = [f"d{i}" for i in range(len(shape))]
    index = pd.MultiIndex.from_product([[f"c{j}" for j in range(n)] for n in shape], names=dims)
    counts = rng.poisson(mean, size=int(np.prod(shape)))
    return pd.DataFrame({"count": counts}, index=index).reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    shapes = [((20, 5, 3), 12.0), ((20, 8, 4, 3), 9.0), ((200, 20, 4), 10.0)]
    if args.quick:
        shapes = shapes[:2]
    print("suppression (hypercube, margins inside the table)")
    for shape, mean in shapes:
        detail = _table(shape, mean, rng)
        dims = [c for c in detail.columns if c != "count"]
        full, base = _timed(lambda d=detail, ds=dims: with_margins(d, dims=ds))
        done, secs = _timed(lambda f=full, ds=dims: suppress(f, dims=ds, threshold=5))
        print(
            f"  {'x'.join(map(str, shape)):>10} cells {len(full):>7,}: {secs:7.2f} s, "
            f"primary {done.primary:>5}, secondary {done.secondary:>5}; "
            f"ratio to the groupby building it ({base:.3f} s): {secs / base:7.1f}x"
        )
    n = 5_000 if args.quick else args.records
    victims = analytic_victims(n, seed=1)
    base = _timed(
        lambda: victims.groupby(
            ["identification_year", "sex", "age", "citizenship", "country_of_detection"],
            dropna=False,
        ).size()
    )[1]
    release, secs = _timed(lambda: kanonymise(victims, k=11))
    print(
        f"k-anonymity, {n:,} records: {secs:.2f} s (k={release.k}, suppressed "
        f"{release.suppressed_share:.1%}, levels {release.levels}); ratio to one QI groupby "
        f"({base:.3f} s): {secs / base:.0f}x"
    )
    frame = victims[["sex", "age_group"]].astype(str)
    base = _timed(lambda: frame.value_counts())[1]
    ctx = PrivacyContext("bench", PrivacyUnit(1), total_epsilon=1.0)
    keys = {"sex": ["female", "male", "other", "unknown"], "age_group": ["0-17", "18+", "unknown"]}
    _, secs = _timed(lambda: ctx.counts(frame, by=["sex", "age_group"], epsilon=0.5, keys=keys))
    print(
        f"DP counts (OpenDP), {n:,} records, 12 cells: {secs:.2f} s; ratio to value_counts "
        f"({base:.4f} s): {secs / base:.0f}x"
    )


if __name__ == "__main__":
    main()
