"""Speed of multiple systems estimation on the UK 2013 table (6 lists, 2,744 victims).

Prints, for this run on this machine:
1. stepwise selection + 1,000-replicate BCa bootstrap with the selection repeated in every
   replicate (target < 2 s on 2 cores), against two baselines measured in the same run:
   - "one-by-one": the same selection run replicate by replicate with the scalar Newton fit;
   - "statsmodels": statsmodels GLM fits of the models on the stepwise path, times 1,000
     (a lower bound for an implementation that fits with statsmodels: no p-values, no checks).
   (R SparseMSE needs minutes for this: about 5 min for the Netherlands table, per its authors.)
2. LCMCR: 10,000 Gibbs iterations on the 6 lists (target < 30 s), 1 chain and 4 chains.
3. AIC/BIC over all 1,024 two-way models of the 5-list UK table.

    python benchmarks/mse_bench.py [--replicates 1000] [--iterations 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices: threads only add overhead

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ctip.estimate import estimate, from_frame  # noqa: E402
from ctip.estimate.intervals import bootstrap, select_stepwise  # noqa: E402
from ctip.estimate.lcmcr import sample  # noqa: E402
from ctip.estimate.selection import all_models, stepwise  # noqa: E402

DATA = Path(
    os.environ.get("CTIP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def timed(fn):
    """Wall-clock seconds; CPU seconds of this process are kept in ``timed.cpu``.

    On a shared machine wall time includes waiting for a core; CPU time does not (it misses the
    work done in worker processes, so it is printed for one-process runs only).
    """
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    timed.cpu = time.process_time() - cpu
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=100,
        help="replicates timed one by one for the baseline (scaled up)",
    )
    args = parser.parse_args()

    uk = from_frame(pd.read_csv(DATA / "mse-uk-2013" / "uk_2013_six_lists.csv"))
    print(f"UK 2013: {uk.t} lists, {uk.observed:,} observed; cores here: {os.cpu_count()}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.1f} (other work on the machine slows every figure)")

    sel = stepwise(uk.counts, uk.t)
    print(f"\n1. stepwise + bootstrap ({args.replicates} replicates, selection in each)")
    terms = " ".join(uk.pair_name(p) for p in sel.terms)
    print(f"   point estimate {sel.fit.estimate:,.1f}; model {terms}")
    for workers in sorted({1, args.workers}):
        secs, result = timed(
            lambda w=workers: estimate(
                uk, "stepwise", bootstrap=args.replicates, seed=1234, workers=w
            )
        )
        cpu = f" (CPU {timed.cpu:.2f} s)" if workers == 1 else ""
        print(
            f"   ctip, {workers} worker(s): {secs:6.2f} s{cpu}   BCa interval "
            f"{result.ci_low:,.0f} to {result.ci_high:,.0f}"
        )
        if workers == 1:
            ours = secs

    rng = np.random.default_rng(1234)
    rows = rng.multinomial(uk.observed, uk.counts / uk.observed, size=args.baseline_sample)
    secs, _ = timed(lambda: [stepwise(r, uk.t) for r in rows])
    one_by_one = secs * args.replicates / args.baseline_sample
    print(
        f"   baseline one-by-one scalar selection: {one_by_one:6.2f} s (CPU "
        f"{timed.cpu * args.replicates / args.baseline_sample:.2f} s; scaled from "
        f"{args.baseline_sample}); ratio {one_by_one / ours:.1f}x"
    )

    import statsmodels.api as sm

    from ctip.estimate.loglinear import fit

    path = [sel.terms[:k] for k in range(len(sel.terms) + 1)]
    designs = [fit(uk, model).design for model in path]

    def sm_fits():
        for d in designs:
            sm.GLM(uk.counts[d.keep].astype(float), d.X, family=sm.families.Poisson()).fit()

    secs, _ = timed(lambda: [sm_fits() for _ in range(20)])
    sm_total = secs / 20 * args.replicates
    print(
        f"   baseline statsmodels GLM ({len(designs)} fits per replicate): {sm_total:6.2f} s "
        f"(scaled from 20); ratio {sm_total / ours:.1f}x"
    )
    _ = bootstrap, select_stepwise  # the API used by estimate(..., bootstrap=N)

    burnin = args.iterations // 5
    print(f"\n2. LCMCR, {args.iterations:,} iterations ({burnin:,} burn-in) on {uk.t} lists (K=10)")
    for chains in (1, 4):
        secs, r = timed(
            lambda c=chains: sample(
                uk, iterations=args.iterations - burnin, burnin=burnin, thin=5, chains=c, seed=12345
            )
        )
        print(
            f"   {chains} chain(s): {secs:6.2f} s (CPU {timed.cpu:.2f} s)   median {r.median:,.0f} "
            f"[{r.low:,.0f}, {r.high:,.0f}]  R-hat {r.rhat:.2f}  ESS {r.ess:.0f}"
        )

    uk5 = from_frame(pd.read_csv(DATA / "mse-reference-tables" / "UKdat_5.csv"))
    secs, models = timed(lambda: all_models(uk5.counts, uk5.t))
    print(
        f"\n3. every two-way model of the 5-list UK table: {len(models)} models checked and "
        f"fitted in {secs:.2f} s (Rcapture closedpMS.t: ~5 s per its docs)"
    )
    secs, r = timed(
        lambda: estimate(uk5, "bic", bootstrap=args.replicates, seed=1234, workers=args.workers)
    )
    print(
        f"   BIC + bootstrap over the 100 best models, {args.replicates} replicates: {secs:.2f} s; "
        f"N {r.estimate:,.0f} [{r.ci_low:,.0f}, {r.ci_high:,.0f}]"
    )


if __name__ == "__main__":
    main()
