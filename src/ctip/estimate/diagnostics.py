"""MCMC convergence diagnostics: rank-normalised split R-hat and bulk effective sample size.

As Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021, Bayesian Analysis 16:667), the
diagnostics Stan and ArviZ report and for which R-hat < 1.01 and ESS >= 400 are the recommended
thresholds. Hand-written (a few lines of numpy) rather than importing ArviZ and its xarray stack
for two functions; tested against textbook cases (independent draws, stuck chains).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata


def _split(draws: np.ndarray) -> np.ndarray:
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim == 1:
        draws = draws[None, :]
    half = draws.shape[1] // 2
    return np.vstack([draws[:, :half], draws[:, half : 2 * half]])


def _rank_normal(draws: np.ndarray) -> np.ndarray:
    ranks = rankdata(draws, method="average").reshape(draws.shape)
    return np.asarray(norm.ppf((ranks - 0.375) / (draws.size + 0.25)))


def _rhat(chains: np.ndarray) -> float:
    m, n = chains.shape
    if n < 2:
        return float("nan")
    w = chains.var(axis=1, ddof=1).mean()
    b = n * chains.mean(axis=1).var(ddof=1)
    if w <= 0:
        return 1.0 if b <= 0 else float("inf")
    return float(np.sqrt(((n - 1) / n * w + b / n) / w))


def split_rhat(draws: np.ndarray) -> float:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) versions."""
    chains = _split(draws)
    if chains.shape[1] < 4:
        return float("nan")
    if np.ptp(chains) == 0:
        return 1.0
    bulk = _rhat(_rank_normal(chains))
    folded = np.abs(chains - np.median(chains))
    tail = _rhat(_rank_normal(folded)) if np.ptp(folded) > 0 else 1.0
    return max(bulk, tail)


def effective_size(draws: np.ndarray) -> float:
    """Bulk effective sample size over all chains (split, rank-normalised; Geyer's initial
    monotone sequence)."""
    chains = _split(draws)
    m, n = chains.shape
    if n < 4:
        return float(m * n)
    if np.ptp(chains) == 0:
        return float(m * n)
    z = _rank_normal(chains)
    centred = z - z.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n
    w = z.var(axis=1, ddof=1).mean()
    var_plus = (n - 1) / n * w + z.mean(axis=1).var(ddof=1)
    if var_plus <= 0:
        return float(m * n)
    rho = 1.0 - (w - acov.mean(axis=0) * n / (n - 1)) / var_plus
    rho[0] = 1.0
    total, last, t = 0.0, np.inf, 0
    while t + 1 < n:
        pair = rho[t] + rho[t + 1]
        if pair < 0:
            break
        pair = min(pair, last)  # initial monotone sequence
        total += pair
        last = pair
        t += 2
    tau = -1.0 + 2.0 * total
    return float(min(m * n / max(tau, 1.0 / np.log10(m * n)), m * n * np.log10(m * n)))
