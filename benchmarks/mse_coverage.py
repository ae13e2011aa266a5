"""Coverage of 95% intervals for the population size, by method, on simulated populations.

Populations of known size N are simulated (ctip.estimate.simulate) under three scenarios:
  independent    lists independent, everyone equally catchable (every method should cover);
  dependent      pairwise list dependence, positive and negative (what log-linear models handle);
  heterogeneous  two groups of victims, each easier to find for different lists;
  hard           one group less catchable on every list alike: no method can see them, and
                 every method underestimates (shown so nobody over-trusts a figure).
Each replicate draws the lists, estimates with every method, and records whether the 95%
interval covers N. Target: 90-99%. The baseline is the main-effects model with a Wald interval
(independence assumed), reported in the same run.

    python benchmarks/mse_coverage.py [--reps 100] [--N 3000] [--boot 200] [--lcmcr-reps 20]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from ctip.estimate import estimate  # noqa: E402
from ctip.estimate.simulate import scenario, simulate  # noqa: E402

METHODS = {
    "main + Wald (baseline)": dict(method="main"),
    "stepwise + Wald": dict(method="stepwise"),
    "stepwise + profile": dict(method="stepwise", interval="profile"),
    "stepwise + bootstrap BCa": dict(method="stepwise", interval="bootstrap"),
    "BIC + Wald": dict(method="bic"),
    "BIC + bootstrap BCa": dict(method="bic", interval="bootstrap"),
    "Bayesian thresholding": dict(method="bayesthresh"),
    "LCMCR": dict(method="lcmcr"),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=100, help="replicates per scenario")
    parser.add_argument("--N", type=int, default=3000, help="true population size")
    parser.add_argument("--lists", type=int, default=4)
    parser.add_argument("--boot", type=int, default=200, help="bootstrap replicates per estimate")
    parser.add_argument("--lcmcr-reps", type=int, default=20, help="replicates for LCMCR (slow)")
    parser.add_argument("--lcmcr-iterations", type=int, default=3000)
    parser.add_argument("--scenarios", default="independent,dependent,heterogeneous,hard")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    print(
        f"N = {args.N:,}, {args.lists} lists, {args.reps} replicates per scenario "
        f"(LCMCR: {args.lcmcr_reps}), bootstrap {args.boot} replicates, seed {args.seed}"
    )
    print(
        f"{'scenario':<14} {'method':<26} {'reps':>5} {'coverage':>9} {'median N/true':>14} "
        f"{'median width/true':>18} {'not estimable':>14} {'s/rep':>7}"
    )
    for name in args.scenarios.split(","):
        rng = np.random.default_rng(args.seed)
        tables = [simulate(args.N, scenario(name, args.lists), rng) for _ in range(args.reps)]
        for label, options in METHODS.items():
            reps = args.lcmcr_reps if options["method"] == "lcmcr" else args.reps
            hits, ratios, widths, failed = 0, [], [], 0
            start = time.perf_counter()
            for k, hist in enumerate(tables[:reps]):
                extra = {}
                if options.get("interval") == "bootstrap":
                    extra = dict(bootstrap=args.boot, seed=k)
                if options["method"] == "lcmcr":
                    extra = dict(
                        seed=k,
                        lcmcr_options=dict(
                            iterations=args.lcmcr_iterations, burnin=1000, chains=2, thin=2
                        ),
                    )
                r = estimate(hist, **options, **extra)
                if not r.estimable:
                    failed += 1
                    continue
                hits += r.ci_low <= args.N <= r.ci_high
                ratios.append(r.estimate / args.N)
                widths.append((r.ci_high - r.ci_low) / args.N)
            secs = (time.perf_counter() - start) / max(reps, 1)
            done = reps - failed
            coverage = hits / done if done else float("nan")
            print(
                f"{name:<14} {label:<26} {reps:>5} {coverage:>9.1%} {np.median(ratios):>14.3f} "
                f"{np.median(widths):>18.3f} {failed:>14} {secs:>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
