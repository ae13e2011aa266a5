"""Coverage of 95% intervals for the population size, by method, on simulated populations.

Populations of known size N are simulated (ctip.estimate.simulate) under four scenarios:
  independent    lists independent, everyone equally catchable (every method should cover);
  dependent      pairwise list dependence, positive and negative (what log-linear models handle);
  heterogeneous  two groups of victims, each easier to find for different lists;
  hard           one group less catchable on every list alike: no method can see them, and
                 every method underestimates (shown so nobody over-trusts a figure).
Each replicate draws the lists, estimates with every method (the product's own ``estimate``, as
``ctip estimate`` runs it) and records whether the 95% interval covers N. Target: 90-99%. The
baseline is the main-effects model with a Wald interval (independence assumed), in the same run.
A last block, "ten lists", has a small dark figure (ten lists that each see a quarter of the
people): there the Wald interval ignores the randomness of the hidden count and under-covers,
the profile likelihood does not.

    python benchmarks/mse_coverage.py [--reps 100] [--N 3000] [--boot 200] [--mcmc-reps 20]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from ctip.estimate import estimate  # noqa: E402
from ctip.estimate.simulate import CaptureClass, scenario, simulate  # noqa: E402

METHODS = {
    "main + Wald (baseline)": dict(method="main"),
    "stepwise + Wald": dict(method="stepwise"),
    "stepwise + profile": dict(method="stepwise", interval="profile"),
    "stepwise + bootstrap BCa": dict(method="stepwise", interval="bootstrap"),
    "Home Office (AIC step, profile)": dict(method="homeoffice"),
    "BIC 3-way + Wald": dict(method="bic"),
    "BIC 3-way + bootstrap BCa": dict(method="bic", interval="bootstrap"),
    "BIC 2-way + bootstrap BCa": dict(method="bic", maxorder=2, interval="bootstrap"),
    "Bayesian thresholding (MCMC)": dict(method="bayesthresh"),
    "dga (graph averaging)": dict(method="dga"),
    "LCMCR (to convergence)": dict(method="lcmcr"),
}
SLOW = {"bayesthresh", "lcmcr"}


def run_block(name, tables, methods, args, truth):
    for label, options in methods.items():
        slow = options["method"] in SLOW
        reps = args.mcmc_reps if slow else len(tables)
        hits, ratios, widths, failed, unconverged = 0, [], [], 0, 0
        start = time.perf_counter()
        for k, hist in enumerate(tables[:reps]):
            extra: dict = {}
            if options.get("interval") == "bootstrap":
                extra = dict(bootstrap=args.boot, seed=k)
            if options["method"] in SLOW:
                extra = dict(seed=k)
                if options["method"] == "lcmcr":
                    extra["lcmcr_options"] = dict(max_iterations=args.lcmcr_cap)
            r = estimate(hist, **options, **extra)
            if not r.estimable:
                failed += 1
                continue
            unconverged += r.details.get("converged") is False
            hits += r.ci_low <= truth <= r.ci_high
            ratios.append(r.estimate / truth)
            widths.append((r.ci_high - r.ci_low) / truth)
        secs = (time.perf_counter() - start) / max(reps, 1)
        done = reps - failed
        coverage = hits / done if done else float("nan")
        note = f"  ({unconverged} not converged)" if unconverged else ""
        print(
            f"| {name} | {label} | {reps} | {coverage:.1%} | {np.median(ratios):.3f} | "
            f"{np.median(widths):.3f} | {failed} | {secs:.2f} |{note}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=100, help="replicates per scenario")
    parser.add_argument("--N", type=int, default=3000, help="true population size")
    parser.add_argument("--lists", type=int, default=4)
    parser.add_argument("--boot", type=int, default=200, help="bootstrap replicates per estimate")
    parser.add_argument("--mcmc-reps", type=int, default=20, help="replicates for the MCMC methods")
    parser.add_argument("--lcmcr-cap", type=int, default=100_000, help="LCMCR iterations cap")
    parser.add_argument("--scenarios", default="independent,dependent,heterogeneous,hard")
    parser.add_argument("--methods", default="", help="comma-separated labels (default: all)")
    parser.add_argument("--ten-reps", type=int, default=40, help="replicates of the 10-list block")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    chosen = (
        {k: v for k, v in METHODS.items() if k in args.methods.split(",")}
        if args.methods
        else METHODS
    )
    print(
        f"N = {args.N:,}, {args.lists} lists, {args.reps} replicates per scenario (MCMC methods: "
        f"{args.mcmc_reps}), bootstrap {args.boot} replicates, seed {args.seed}; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        "| scenario | method | reps | coverage | median N/true | median width/true | "
        "not estimable | s/rep |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in [s for s in args.scenarios.split(",") if s]:
        rng = np.random.default_rng(args.seed)
        tables = [simulate(args.N, scenario(name, args.lists), rng) for _ in range(args.reps)]
        run_block(name, tables, chosen, args, args.N)
    if args.ten_reps:
        rng = np.random.default_rng(args.seed)
        truth = 300
        ten = [CaptureClass(1.0, [0.25] * 10)]
        tables = [simulate(truth, ten, rng) for _ in range(args.ten_reps)]
        run_block(
            "ten lists (N 300)",
            tables,
            {
                "main + Wald": dict(method="main"),
                "main + profile": dict(method="main", interval="profile"),
            },
            args,
            truth,
        )


if __name__ == "__main__":
    main()
