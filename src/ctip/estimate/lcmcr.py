"""Bayesian latent-class model (Manrique-Vallier 2016, R package LCMCR), Gibbs sampler in numpy.

People belong to one of K latent classes (truncated stick-breaking Dirichlet process, concentration
alpha ~ Gamma(0.25, 0.25)); within a class the lists are independent with inclusion probabilities
lambda_jk ~ Beta(1, 1). Differences in catchability between classes (heterogeneity) are what create
dependence between lists. Prior on N proportional to 1/N. Gibbs steps, vectorised over capture
patterns and over chains (all chains advance in the same numpy calls):

1. class counts of the observed people of each pattern ~ Multinomial(n_w, class posterior);
2. n0 (people on no list) ~ NegBin(n_obs, 1 - P(on no list)); their classes ~ Multinomial;
3. lambda_jk ~ Beta(1 + on list j in class k, 1 + not on list j in class k);
4. stick weights V_k ~ Beta(1 + n_k, alpha + sum_{l>k} n_l);
   alpha ~ Gamma(a + K - 1, b - sum log(1-V)).

Why hand-written: LCMCR is R/C++ only and no Python package implements it. Differences from LCMCR:
several chains with split R-hat and effective sample size reported, and no silent truncation of
the posterior at 21 x n_obs (LCMCR redraws n0 until n0 <= 20 n_obs); instead the share of draws
above 20 x n_obs is reported so a user sees when the posterior is unbounded.
numba was not used: with the work vectorised over patterns and chains, most of a step is the
multinomial and beta draws themselves (C code either way), so a JIT would save little.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ctip.estimate.diagnostics import effective_size, split_rhat
from ctip.estimate.histories import CaptureHistory

__all__ = ["LcmcrResult", "effective_size", "sample", "split_rhat"]


@dataclass
class LcmcrResult:
    draws: np.ndarray  # (chains, kept draws) of N
    median: float
    low: float
    high: float
    rhat: float
    ess: float
    share_above_20n: float
    settings: dict


def sample(
    history: CaptureHistory,
    *,
    K: int = 10,
    iterations: int = 10_000,
    burnin: int = 2_000,
    thin: int = 5,
    chains: int = 4,
    seed: int = 12345,
    a_alpha: float = 0.25,
    b_alpha: float = 0.25,
    level: float = 0.95,
    on_progress: Callable[[int], None] | None = None,
) -> LcmcrResult:
    """Run ``chains`` chains of ``burnin + iterations`` Gibbs steps; keep every ``thin``-th."""
    rng = np.random.default_rng(seed)
    obs = history.counts > 0
    P = history.patterns[obs].astype(np.float64)  # m x t
    n_w = history.counts[obs].astype(np.int64)
    Q, PT = 1.0 - P, np.ascontiguousarray(P.T)
    n = int(n_w.sum())
    t = history.t
    C = chains
    lam = rng.uniform(0.05, 0.5, size=(C, t, K))
    alpha = np.ones(C)
    v = rng.beta(1.0, 1.0, size=(C, K))
    v[:, -1] = 1.0
    n0 = np.full(C, n, dtype=np.int64)
    cap = 10_000 * n  # only a guard against overflow; draws this large are reported, not hidden
    total = burnin + iterations
    kept = []
    tick = max(1, total // 100)
    for it in range(total):
        pi = v * np.concatenate([np.ones((C, 1)), np.cumprod(1 - v[:, :-1], axis=1)], axis=1)
        log_lam, log_not = np.log(lam), np.log1p(-lam)
        # log P(pattern | class): (C, m, K)
        loglik = P @ log_lam + Q @ log_not
        logpost = loglik + np.log(np.maximum(pi, 1e-300))[:, None, :]
        logpost -= logpost.max(axis=2, keepdims=True)
        post = np.exp(logpost)
        post /= post.sum(axis=2, keepdims=True)
        z = rng.multinomial(np.broadcast_to(n_w, (C, len(n_w))), post)  # (C, m, K)
        on_list = PT @ z
        n_obs_k = z.sum(axis=1)  # (C, K)
        q = np.exp(log_not.sum(axis=1))  # (C, K) P(on no list | class)
        p0 = np.clip((pi * q).sum(axis=1), 0.0, 1 - 1e-12)
        n0 = np.minimum(rng.negative_binomial(n, 1.0 - p0), cap)
        w0 = pi * q
        w0 /= w0.sum(axis=1, keepdims=True)
        z0 = rng.multinomial(n0, w0)  # (C, K)
        n_k = n_obs_k + z0
        lam = rng.beta(1.0 + on_list, 1.0 + n_k[:, None, :] - on_list)
        lam = np.clip(lam, 1e-10, 1 - 1e-10)
        after = np.cumsum(n_k[:, ::-1], axis=1)[:, ::-1]  # sum_{l >= k}
        rest = np.concatenate([after[:, 1:], np.zeros((C, 1))], axis=1)  # sum_{l > k}
        v = rng.beta(1.0 + n_k, alpha[:, None] + rest)
        v[:, -1] = 1.0
        v[:, :-1] = np.clip(v[:, :-1], 1e-12, 1 - 1e-12)
        alpha = rng.gamma(a_alpha + K - 1, 1.0 / (b_alpha - np.log1p(-v[:, :-1]).sum(axis=1)))
        if it >= burnin and (it - burnin) % thin == 0:
            kept.append(n + n0)
        if on_progress and (it + 1) % tick == 0:
            on_progress(tick)
    draws = np.array(kept, dtype=np.float64).T  # (C, draws)
    flat = draws.ravel()
    lo, med, hi = np.quantile(flat, [0.5 - level / 2, 0.5, 0.5 + level / 2])
    return LcmcrResult(
        draws,
        float(med),
        float(lo),
        float(hi),
        split_rhat(draws),
        effective_size(draws),
        float(np.mean(flat > 21 * n)),
        {
            "K": K,
            "iterations": iterations,
            "burnin": burnin,
            "thin": thin,
            "chains": chains,
            "seed": seed,
            "a_alpha": a_alpha,
            "b_alpha": b_alpha,
        },
    )
