"""Speed of every estimation method on the UK 2013 table (6 lists, 2,744 victims), against R.

Each line: what ctip does, its wall time and CPU time in this run, and the ratio to the R time
named in issue 12 for the same work (R measured elsewhere, so that ratio is indicative; the
ratio that counts on this shared machine is to the baseline measured in the same run):

1. stepwise + 1,000-replicate BCa bootstrap with the selection repeated in every replicate
   (R SparseMSE: 275.7 s); baseline: the same selection replicate by replicate (scalar fits).
2. every two-way model of the 6 lists, 32,768, checked and fitted: the exhaustive AIC/BIC search
   (R Rcapture closedpMS.t: 200.6 s); baseline: the same models fitted one by one (sampled).
3. BIC + bootstrap over the 100 best models; the Home Office method (AIC stepwise, profile CI).
4. dga: on the 5-list UK table with dga's example grid (300 values; R dga 919.6 ms, dgaFast
   12.5 ms, per dga's README) and on the 6 lists with ctip's own grid (18,154 graphs).
5. Bayesian thresholding sampled to R-hat < 1.01 and ESS >= 400.
6. LCMCR: R's work (K = 10, 1.1e5 iterations, one chain; R LCMCR: 2.82 s) and the default
   run until R-hat < 1.01 and ESS >= 400 (target < 30 s), or "not converged" if the cap came
   first; the numba compile/cache load is timed apart.

    python benchmarks/mse_bench.py [--replicates 1000] [--workers 2] [--baseline-sample 100]
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
from ctip.estimate.existence import fit_checked  # noqa: E402
from ctip.estimate.search import all_models  # noqa: E402
from ctip.estimate.selection import stepwise  # noqa: E402
from ctip.estimate.terms import hierarchical_models  # noqa: E402

DATA = Path(
    os.environ.get("CTIP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
R_TIMES = {
    "stepwise_bca": 275.7,  # R SparseMSE stepwise + 1,000 BCa replicates (issue 12)
    "all_models": 200.6,  # R Rcapture closedpMS.t, all 32,768 two-way models of 6 lists
    "lcmcr": 2.82,  # R LCMCR, K = 10, 1.1e5 iterations
    "dga": 0.9196,  # R dga bma.cr on 5 lists, Nmissing 1:300 (dga README, median)
    "dgafast": 0.0125,  # dgaFast, same work (same README)
}


def timed(fn):
    """(wall seconds, CPU seconds of this process, value)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - start, time.process_time() - cpu, value


def line(label: str, wall: float, cpu: float | None, extra: str = "") -> None:
    cpu_text = f" (CPU {cpu:6.2f} s)" if cpu is not None else " (CPU in workers)"
    print(f"   {label:<46} {wall:7.2f} s{cpu_text}  {extra}")


def vs_r(seconds: float, key: str) -> str:
    return f"R {R_TIMES[key]:g} s: {R_TIMES[key] / seconds:,.1f}x faster"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-sample", type=int, default=100)
    parser.add_argument("--model-sample", type=int, default=1000)
    args = parser.parse_args()

    uk = from_frame(pd.read_csv(DATA / "mse-uk-2013" / "uk_2013_six_lists.csv"))
    uk5 = from_frame(pd.read_csv(DATA / "mse-reference-tables" / "UKdat_5.csv"))
    print(f"UK 2013: {uk.t} lists, {uk.observed:,} observed; cores here: {os.cpu_count()}")
    print(
        f"load average at start: {os.getloadavg()[0]:.1f} (a busy machine slows wall times; "
        "CPU times and same-run ratios are the fair figures)"
    )

    print(f"\n1. stepwise + bootstrap ({args.replicates} replicates, selection in each)")
    for workers in sorted({1, args.workers}):
        wall, cpu, r = timed(
            lambda w=workers: estimate(uk, "stepwise", bootstrap=args.replicates, workers=w)
        )
        line(
            f"ctip, {workers} worker(s): {r.estimate:,.0f} [{r.ci_low:,.0f}, {r.ci_high:,.0f}]",
            wall,
            cpu if workers == 1 else None,
            vs_r(cpu if workers == 1 else wall, "stepwise_bca"),
        )
        if workers == 1:
            ours = cpu
    rng = np.random.default_rng(1234)
    rows = rng.multinomial(uk.observed, uk.counts / uk.observed, size=args.baseline_sample)
    wall, cpu, _ = timed(lambda: [stepwise(row, uk.t) for row in rows])
    scale = args.replicates / args.baseline_sample
    line(
        f"baseline: replicate by replicate (x{scale:g} of {args.baseline_sample})",
        wall * scale,
        cpu * scale,
        f"ctip is {cpu * scale / ours:.1f}x faster",
    )

    print("\n2. every two-way model of the 6 lists (exhaustive AIC/BIC search)")
    wall, cpu, ms = timed(lambda: all_models(uk.counts, uk.t, 2))
    best = ms.ranked("bic")[0]
    line(
        f"ctip batched: {len(ms.models):,} models, best BIC N {ms.estimate[best]:,.0f}",
        wall,
        cpu,
        vs_r(cpu, "all_models"),
    )
    models = hierarchical_models(uk.t, 2)
    pick = np.random.default_rng(5).choice(len(models), size=args.model_sample, replace=False)
    wall_b, cpu_b, _ = timed(lambda: [fit_checked(uk.counts, uk.t, models[k]) for k in pick])
    scale = len(models) / args.model_sample
    line(
        f"baseline: one model at a time (x{scale:.1f} of {args.model_sample})",
        wall_b * scale,
        cpu_b * scale,
        f"ctip is {cpu_b * scale / cpu:.1f}x faster",
    )
    wall, cpu, r = timed(lambda: estimate(uk, "bic"))
    line(f"estimate(method='bic'): N {r.estimate:,.0f} (search + refit)", wall, cpu)

    print("\n3. other log-linear methods")
    wall, cpu, r = timed(lambda: estimate(uk, "homeoffice"))
    line(
        f"Home Office 2014: {r.estimate:,.0f} [{r.ci_low:,.0f}, {r.ci_high:,.0f}]",
        wall,
        cpu,
        "(no R time named; modslavmse refits with Rcapture)",
    )
    wall, cpu, r = timed(lambda: estimate(uk, "bic", bootstrap=args.replicates))
    line(
        f"BIC + {args.replicates} BCa, 100 best models: [{r.ci_low:,.0f}, {r.ci_high:,.0f}]",
        wall,
        cpu,
    )

    print("\n4. dga (model averaging over decomposable graphs)")
    wall, cpu, r = timed(lambda: estimate(uk5, "dga", dga_options={"missing": np.arange(1, 301)}))
    line(
        "5 lists, 822 graphs, grid 1:300 (dga's example work)",
        wall,
        cpu,
        f"{vs_r(cpu, 'dga')}; dgaFast 12.5 ms: {R_TIMES['dgafast'] / cpu:.2f}x",
    )
    wall, cpu, r = timed(lambda: estimate(uk5, "dga"))
    line(
        f"5 lists, ctip's grid: {r.estimate:,.0f} [{r.ci_low:,.0f}, {r.ci_high:,.0f}]",
        wall,
        cpu,
        f"modes {', '.join(f'{m:,.0f}' for m in r.details['modes'])}",
    )
    wall, cpu, r = timed(lambda: estimate(uk, "dga"))
    line(
        f"6 lists, 18,154 graphs: {r.estimate:,.0f} [{r.ci_low:,.0f}, {r.ci_high:,.0f}]",
        wall,
        cpu,
        "(dga stops at 5 lists)",
    )

    print("\n5. Bayesian thresholding (MCMC to R-hat < 1.01, ESS >= 400)")
    wall, cpu, r = timed(lambda: estimate(uk, "bayesthresh"))
    d = r.details
    line(
        f"{r.estimate:,.0f} [{r.ci_low:,.0f}, {r.ci_high:,.0f}], R-hat {d['rhat']:.3f} ESS "
        f"{d['ess']:.0f}",
        wall,
        cpu,
        f"{d['proposals']:,} proposals, acceptance {d['acceptance']:.0%}",
    )

    print("\n6. LCMCR")
    from ctip.estimate import lcmcr_kernel
    from ctip.estimate.lcmcr import sample

    wall, cpu, _ = timed(lambda: sample(uk, iterations=10, burnin=0, chains=1))
    line("numba compile or cache load (first call)", wall, cpu)
    wall, cpu, r = timed(lambda: sample(uk, iterations=110_000, burnin=0, chains=1, thin=100, K=10))
    per = cpu / 110_500 * 1e6  # LCMCR's 500 warm-up sweeps included
    line(
        f"R's work: K=10, 1.1e5 iterations, 1 chain ({per:.1f} us/iteration)",
        wall,
        cpu,
        f"{vs_r(cpu, 'lcmcr')} (R: {R_TIMES['lcmcr'] / 1.1e5 * 1e6:.1f} us/iteration)",
    )
    wall, cpu, r = timed(lambda: estimate(uk, "lcmcr"))
    d = r.details
    status = (
        f"converged: R-hat {d['rhat']:.4f}, ESS {d['ess']:.0f}"
        if d["converged"]
        else f"NOT CONVERGED at the cap: R-hat {d['rhat']:.4f}, ESS {d['ess']:.0f}"
    )
    line(
        f"to convergence: {r.estimate:,.0f} [{r.ci_low:,.0f}, {r.ci_high:,.0f}]",
        wall,
        cpu,
        f"{d['chains']} chains x {d['iterations']:,} iterations; {status}; target < 30 s",
    )
    _ = lcmcr_kernel


if __name__ == "__main__":
    main()
