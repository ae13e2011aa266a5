"""The Bayesian methods as ``estimate`` sees them: LCMCR, Bayesian thresholding, dga.

Each runner turns its method's posterior into the common result: a point (posterior median), a
credible interval, the model it speaks for, diagnostics in ``details`` and warnings a reader must
see (chains not converged, a posterior with a heavy tail at the end of the grid, two modes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ctip.estimate.histories import CaptureHistory
from ctip.estimate.outcome import Outcome, pct
from ctip.estimate.terms import name

Posterior = Outcome
_pct = pct


def _modes(grid: np.ndarray, density: np.ndarray, share: float = 0.1) -> list[float]:
    """Local maxima of a posterior density at least ``share`` of its highest point."""
    top = density.max()
    inner = (density[1:-1] >= density[:-2]) & (density[1:-1] > density[2:])
    peaks = [float(grid[k + 1]) for k in np.flatnonzero(inner) if density[k + 1] >= share * top]
    if density[0] > density[1] and density[0] >= share * top:
        peaks.insert(0, float(grid[0]))
    # a plateau of near-equal maxima is one mode: keep peaks separated by a real dip
    kept: list[float] = []
    for p in peaks:
        if kept:
            lo, hi = np.searchsorted(grid, [kept[-1], p])
            if density[lo : hi + 1].min() > 0.8 * min(density[lo], density[hi]):
                if density[hi] > density[lo]:
                    kept[-1] = p
                continue
        kept.append(p)
    return kept


def run_dga(
    history: CaptureHistory,
    *,
    level: float,
    seed: int,
    options: dict[str, Any],
    on_progress: Callable[[int], None] | None = None,
) -> Posterior:
    from ctip.estimate.dga import MAX_LISTS, MIN_LISTS, _widths, bma, graph_label

    if not MIN_LISTS <= history.t <= MAX_LISTS:
        return Posterior(
            0,
            0,
            0,
            "",
            [],
            {},
            refused=f"graphical-model averaging (dga) needs {MIN_LISTS} to {MAX_LISTS} lists with "
            f"people on them; this table has {history.t}",
        )
    r = bma(history, level=level, **options)
    lists = history.lists
    top = [
        {
            "cliques": graph_label(lists, m.graph),
            "edges": [f"{lists[i]}:{lists[j]}" for i, j in m.graph.edges],
            "weight": m.weight,
            "median": m.median,
            "ci_low": m.low,
            "ci_high": m.high,
        }
        for m in r.top
    ]
    missing = r.grid - history.observed
    density = r.posterior / _widths(missing) if "missing" not in options else r.posterior
    modes = _modes(r.grid, density)
    details = {
        "mean": r.mean,
        "mode": r.mode,
        "bayes_estimate": r.bayes,
        "modes": modes,
        "top_models": top,
        "tail_mass": r.tail_mass,
        **r.settings,
    }
    warnings = []
    if r.tail_mass > 0.001:
        warnings.append(
            f"{r.tail_mass:.1%} of the posterior lies at the far end of the grid (N near "
            f"{r.grid[-1]:,.0f}): the lists overlap too little to bound N; dga would cut it off "
            "where its grid ends"
        )
    if len(modes) > 1:
        warnings.append(
            "the posterior of N has more than one mode (near "
            + ", ".join(f"{m:,.0f}" for m in modes)
            + "): different graphs tell different stories; see details.top_models"
        )
    best = r.top[0]
    how = (
        f"posterior median and {_pct(level)} credible interval, averaged over the "
        f"{r.settings['graphs']:,} decomposable graphs (Madigan-York / dga; delta "
        f"{r.settings['delta']:.4g}, prior on N {r.settings['prior']}); most probable graph "
        f"{graph_label(lists, best.graph)} ({best.weight:.0%})"
    )
    terms = [f"{lists[i]}:{lists[j]}" for i, j in best.graph.edges]
    return Posterior(r.median, r.low, r.high, how, terms, details, warnings)


def run_lcmcr(
    history: CaptureHistory,
    *,
    level: float,
    seed: int,
    options: dict[str, Any],
    on_progress: Callable[[int], None] | None = None,
) -> Posterior:
    from ctip.estimate.lcmcr import sample

    options = {"seed": seed, **options}
    r = sample(history, level=level, on_progress=on_progress, **options)
    details = {
        "rhat": r.rhat,
        "ess": r.ess,
        "converged": r.converged,
        "seconds": r.seconds,
        "share_above_20n": r.share_above_20n,
        **r.settings,
    }
    warnings = []
    s = r.settings
    if not r.converged:
        cap = (
            f"stopped at the cap of {s['max_iterations']:,} iterations per chain"
            if s["until_converged"]
            else f"after the {s['iterations']:,} iterations asked for"
        )
        warnings.append(
            f"the chains have not converged ({cap}: R-hat {r.rhat:.3f}, target < 1.01; "
            f"effective sample size {r.ess:.0f}, target >= 400): the figure and its interval "
            "are not reliable; run longer (--max-iterations) or check the table"
        )
    if r.share_above_20n > 0.01:
        warnings.append(
            f"{r.share_above_20n:.1%} of the posterior is above 21 times the observed "
            "(LCMCR itself would silently cut it off there)"
        )
    how = (
        f"posterior median and {_pct(level)} credible interval, {s['chains']} chains x "
        f"{s['iterations']:,} iterations (K={s['K']}; R-hat {r.rhat:.3f}, ESS {r.ess:.0f})"
    )
    return Posterior(r.median, r.low, r.high, how, [], details, warnings)


def run_bayesthresh(
    history: CaptureHistory,
    *,
    level: float,
    seed: int,
    options: dict[str, Any],
    on_progress: Callable[[int], None] | None = None,
) -> Posterior:
    from ctip.estimate.bayesthresh import bayes_threshold

    options = {"seed": seed, **options}
    r = bayes_threshold(history, level=level, **options)
    lists = history.lists
    terms = [name(lists, p) for p in r.terms]
    s = r.sampling
    how = (
        f"posterior median and {_pct(level)} credible interval (MCMC: {s['chains']} chains, "
        f"independence Metropolis-Hastings; interactions with |mean|/sd < {s['threshold']:g} "
        "dropped, the rest refitted)"
    )
    details = {
        "log_dark": r.log_dark_mean,
        "sd_log_dark": r.log_dark_sd,
        "threshold_statistics": {name(lists, k): v for k, v in r.statistics.items()},
        "triples_considered": [name(lists, k) for k in r.triples_considered],
        **s,
    }
    warnings = []
    if not s["converged"]:
        warnings.append(
            f"the MCMC did not reach R-hat < 1.01 and ESS >= 400 within its cap (worst R-hat "
            f"{s['worst_rhat']:.3f}, ESS {s['ess']:.0f}): the interval ends are imprecise"
        )
    return Posterior(r.median, r.low, r.high, how, terms, details, warnings)


RUNNERS: dict[str, Callable[..., Posterior]] = {
    "dga": run_dga,
    "lcmcr": run_lcmcr,
    "bayesthresh": run_bayesthresh,
}
