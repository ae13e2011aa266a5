"""Bayesian model averaging over decomposable graphical models (Madigan & York 1997; R ``dga``).

HRDAG's standard estimator (Kosovo, Syria, Guatemala), also run by Silverman (2020) on the UK
tables. Each decomposable (chordal) graph on the lists is a log-linear model whose cliques carry
the dependence. With a hyper-Dirichlet prior on the cell probabilities (``delta`` prior people per
cell of the full 2^t table, dga's suggested default 2^-t, i.e. one prior person in all), the
marginal likelihood of a graph factorises over its cliques and separators, so the posterior of
(graph, number missing) is closed form: sums of log-gamma functions, exactly as ``dga::bma.cr``:

    log p(G, m | n) = sum_C f_C(m) - sum_S f_S(m) + log multinomial(N; n, m) + log prior(N)

with f_A(m) the Dirichlet-multinomial log marginal likelihood of the marginal table on the lists of
A (pseudo-count delta * 2^(t - |A|) per marginal cell), the all-absent marginal cell holding the
m missing people. The prior on N is dga's 1/N by default; a log-normal prior (median, sd of log N)
or a flat one may be chosen. Graphs have equal prior weight, as in dga.

Hand-written (no Python package does this): cliques and separators come from a perfect elimination
ordering (maximum cardinality search), so sum_C f_C - sum_S f_S = sum_v f(fa(v)) - f(pa(v)) over
the vertices v in that order (pa = earlier neighbours, fa = pa + v), one sparse +/-1 row per graph;
the whole posterior is then one matrix product (graphs x subsets) @ (subsets x grid).

Differences from dga, on purpose: the grid of missing counts is chosen here (dense integers near 0,
then geometric to a far cap) and the posterior mass near its end is reported, where dga makes the
user supply ``Nmissing`` and silently truncates the posterior at its end (which can nearly double
the mean); 6 lists are allowed too (18,154 graphs). An explicit grid reproduces dga exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy.special import gammaln

from ctip.errors import EstimationError
from ctip.estimate.histories import CaptureHistory

MIN_LISTS, MAX_LISTS = 3, 6
PRIORS = ("1/N", "lognormal", "uniform")
CHUNK = 2048  # graphs per block of the matrix product (bounds memory on 6 lists)


@dataclass(frozen=True)
class Graph:
    """A decomposable graph on t lists: its edges and maximal cliques (list indices)."""

    edges: tuple[tuple[int, int], ...]
    cliques: tuple[tuple[int, ...], ...]


def _bits(mask: int) -> list[int]:
    return [v for v in range(mask.bit_length()) if mask >> v & 1]


def _perfect_order(t: int, adj: list[int]) -> list[int] | None:
    """Maximum cardinality search; None when the graph is not chordal (Tarjan & Yannakakis)."""
    order: list[int] = []
    weight = [0] * t
    seen = 0
    for _ in range(t):
        v = max((u for u in range(t) if not seen >> u & 1), key=lambda u: (weight[u], -u))
        earlier = adj[v] & seen
        # chordal iff the earlier neighbours of every vertex form a clique
        for u in _bits(earlier):
            if (earlier & ~(1 << u)) & ~adj[u]:
                return None
        order.append(v)
        seen |= 1 << v
        for u in _bits(adj[v] & ~seen):
            weight[u] += 1
    return order


@lru_cache(maxsize=8)
def decomposable_graphs(t: int) -> tuple[tuple[Graph, ...], np.ndarray]:
    """Every decomposable graph on t lists (8, 61, 822, 18,154 for t = 3..6), and their
    coefficient rows over the 2^t subsets of lists: log ML(G) = coef[G] @ f(subsets)."""
    pairs = list(combinations(range(t), 2))
    graphs: list[Graph] = []
    rows: list[np.ndarray] = []
    for code in range(1 << len(pairs)):
        edges = tuple(p for k, p in enumerate(pairs) if code >> k & 1)
        adj = [0] * t
        for i, j in edges:
            adj[i] |= 1 << j
            adj[j] |= 1 << i
        order = _perfect_order(t, adj)
        if order is None:
            continue
        coef = np.zeros(1 << t)
        seen = 0
        families = []
        for v in order:
            pa = adj[v] & seen
            coef[pa | 1 << v] += 1.0
            coef[pa] -= 1.0
            families.append(pa | 1 << v)
            seen |= 1 << v
        coef[0] = 0.0  # the empty set's term is 0 (and cancels)
        maximal = [f for f in families if not any(f != g and f & g == f for g in families)]
        cliques = tuple(sorted({tuple(_bits(f)) for f in maximal}))
        graphs.append(Graph(edges, cliques))
        rows.append(coef)
    return tuple(graphs), np.array(rows)


def _marginal_terms(counts: np.ndarray, t: int, delta: float, missing: np.ndarray) -> np.ndarray:
    """f_A(m) for every subset A of lists (rows, by bit mask) and missing count m (columns)."""
    n = float(counts.sum())
    full = np.concatenate([[0.0], counts.astype(np.float64)])  # cell 0: the unobserved
    codes = np.arange(1 << t)
    total_alpha = delta * (1 << t)
    out = np.zeros((1 << t, len(missing)))
    tail = gammaln(total_alpha) - gammaln(n + missing + total_alpha)
    for a in range(1, 1 << t):
        size = bin(a).count("1")
        alpha = delta * (1 << (t - size))
        marginal = np.bincount(_compress(codes & a, a), weights=full, minlength=1 << size)
        const = np.sum(gammaln(marginal[1:] + alpha)) - (1 << size) * gammaln(alpha)
        out[a] = const + gammaln(marginal[0] + missing + alpha) + tail
    return out


def _compress(values: np.ndarray, mask: int) -> np.ndarray:
    """Map the bits of ``values`` selected by ``mask`` onto consecutive bits (marginal cell)."""
    out = np.zeros_like(values)
    for k, v in enumerate(_bits(mask)):
        out |= ((values >> v) & 1) << k
    return out


def default_grid(n: int, cap_ratio: float = 1000.0, dense: int = 2000, coarse: int = 3000):
    """Missing counts 0..dense-1 one by one, then geometric steps up to cap_ratio x observed."""
    top = max(cap_ratio * max(n, 1), 10.0 * dense)
    far = np.unique(np.round(np.geomspace(dense, top, coarse)))
    return np.concatenate([np.arange(dense, dtype=np.float64), far[far >= dense]])


def log_prior(kind: str, total: np.ndarray, median: float | None, sdlog: float) -> np.ndarray:
    if kind == "1/N":
        return -np.log(total)
    if kind == "uniform":
        return np.zeros_like(total)
    if kind == "lognormal":
        if median is None or median <= 0:
            raise EstimationError(
                "a log-normal prior on N needs its median", hint="give prior_median > 0"
            )
        return -np.log(total) - (np.log(total) - np.log(median)) ** 2 / (2.0 * sdlog**2)
    raise EstimationError(f"unknown prior {kind!r} on N", hint=f"use one of {', '.join(PRIORS)}")


@dataclass
class ModelWeight:
    graph: Graph
    weight: float  # posterior probability of the graph
    median: float
    low: float
    high: float


@dataclass
class DgaResult:
    grid: np.ndarray  # N values
    posterior: np.ndarray  # P(N = grid[k]) (mass, after the grid's spacing is accounted for)
    median: float
    low: float
    high: float
    mean: float
    mode: float
    bayes: float  # Madigan & York's estimator under relative squared loss: E[1/N] / E[1/N^2]
    top: list[ModelWeight]
    tail_mass: float  # posterior mass in the last 5% of the grid: the truncation it may hide
    settings: dict = field(default_factory=dict)


def _quantile(grid: np.ndarray, mass: np.ndarray, level: float, exact: bool) -> float:
    cdf = np.cumsum(mass)
    if exact:  # dga::posteriorQuantiles: the first N whose cumulative mass exceeds the level
        return float(grid[min(int(np.searchsorted(cdf, level, side="right")), len(grid) - 1)])
    return float(np.interp(level, cdf, grid))


def _widths(missing: np.ndarray) -> np.ndarray:
    """Quadrature weights: 1 on an integer step grid, the spacing where the grid is coarser."""
    if len(missing) < 2:
        return np.ones_like(missing)
    gaps = np.diff(missing)
    return np.concatenate([[gaps[0]], (gaps[:-1] + gaps[1:]) / 2.0, [gaps[-1]]])


def bma(
    history: CaptureHistory,
    *,
    delta: float | None = None,
    prior: str = "1/N",
    prior_median: float | None = None,
    prior_sdlog: float = 1.0,
    logprior: Callable[[np.ndarray], np.ndarray] | None = None,
    missing: Sequence[float] | None = None,
    level: float = 0.95,
    top: int = 5,
) -> DgaResult:
    """Posterior of N averaged over every decomposable graph (``dga::bma.cr`` and summaries).

    ``missing`` fixes the grid of missing counts (as dga's ``Nmissing``; quantiles then follow
    dga's convention); by default the grid is chosen here. ``logprior`` overrides ``prior`` with
    any function of N (as dga's ``logprior`` argument).
    """
    t = history.t
    if not MIN_LISTS <= t <= MAX_LISTS:
        raise EstimationError(
            f"graphical-model averaging (dga) works with {MIN_LISTS} to {MAX_LISTS} lists; got {t}",
            hint="merge lists (e.g. by agency type) or use another method",
        )
    delta = float(2.0**-t if delta is None else delta)
    if delta <= 0:
        raise EstimationError("delta must be > 0", hint="dga suggests 2^-t (one prior person)")
    exact = missing is not None
    m = np.asarray(missing if exact else default_grid(history.observed), dtype=np.float64)
    n = history.observed
    total = n + m
    graphs, coef = decomposable_graphs(t)
    F = _marginal_terms(history.counts, t, delta, m)
    base = gammaln(total + 1) - np.sum(gammaln(history.counts + 1.0)) - gammaln(m + 1)
    base = base + (
        logprior(total)
        if logprior is not None
        else log_prior(prior, total, prior_median, prior_sdlog)
    )
    if not exact:
        base = base + np.log(_widths(m))
    # log weights by block of graphs; keep per-graph totals and the grid totals
    logw_max = -np.inf
    blocks = []
    for start in range(0, len(graphs), CHUNK):
        block = coef[start : start + CHUNK] @ F + base[None, :]
        logw_max = max(logw_max, float(block.max()))
        blocks.append(block)
    by_graph = np.zeros(len(graphs))
    by_n = np.zeros(len(m))
    for k, block in enumerate(blocks):
        w = np.exp(block - logw_max)
        by_graph[k * CHUNK : k * CHUNK + len(w)] = w.sum(axis=1)
        by_n += w.sum(axis=0)
    norm = by_n.sum()
    by_n /= norm
    by_graph /= norm
    lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
    tops = []
    for g in np.argsort(-by_graph, kind="stable")[:top]:
        block = blocks[g // CHUNK][g % CHUNK]
        w = np.exp(block - block.max())
        w /= w.sum()
        tops.append(
            ModelWeight(
                graphs[g],
                float(by_graph[g]),
                _quantile(total, w, 0.5, exact),
                _quantile(total, w, lo_q, exact),
                _quantile(total, w, hi_q, exact),
            )
        )
    tail = float(by_n[m >= m[0] + 0.95 * (m[-1] - m[0])].sum())
    return DgaResult(
        total,
        by_n,
        _quantile(total, by_n, 0.5, exact),
        _quantile(total, by_n, lo_q, exact),
        _quantile(total, by_n, hi_q, exact),
        float(by_n @ total),
        float(total[int(np.argmax(by_n / (1.0 if exact else _widths(m))))]),
        float((by_n @ (1.0 / total)) / (by_n @ (1.0 / total**2))),
        tops,
        tail,
        {
            "delta": delta,
            "prior": "custom" if logprior is not None else prior,
            "prior_median": prior_median,
            "prior_sdlog": prior_sdlog if prior == "lognormal" else None,
            "graphs": len(graphs),
            "grid": f"{len(m)} values of the missing count from {m[0]:,.0f} to {m[-1]:,.0f}",
        },
    )


def graph_label(lists: Sequence[str], graph: Graph) -> str:
    """Cliques as dga's plots show them, e.g. "[LA,NG][NG,GP][PF]"."""
    return "".join("[" + ",".join(lists[v] for v in c) + "]" for c in graph.cliques)
