"""Multiple systems estimation on lists linked with errors: correct the table, then estimate.

Linkage errors change the capture-history table MSE reads. A **missed link** splits one person
seen by lists A and B into a person seen by A and another seen by B (the overlap shrinks, the
singletons grow: N is overestimated); a **false link** merges two people into one (overlaps grow:
N is underestimated). Ding & Fienberg (1994) corrected the two-list (Petersen) estimator for
both; Di Consiglio & Tuoto (2015, J. Official Statistics 31:415-429; 2018, JOS 34:889-908,
"Population size estimation and linkage errors: the multiple lists case") carried the
correction to log-linear models over several lists: the observed table is the true one passed
through a known linkage-error process, E[observed] = B(true), and the true table is what is
modelled. This module does that in two pure steps:

1. ``expected_observed``: the error process. A person on lists w has one record per list (and,
   with the observed share of the list, a second record on one of them: a duplicate the
   deduplication must find). Each pair of that person's records is linked *directly* with
   probability 1 - missed[i, j] (i, j the two records' lists) independently, and the person's
   records then fall into the connected components of the links found (a missed link bridged
   by a third record costs nothing): the expected number of fragments of each pattern is exact
   (``fragment_matrix``). Then ``false_links[i, j]`` expected false links between lists i and j
   each merge a unit holding list i with another holding list j, drawn in proportion to the
   units of each pattern (Di Consiglio & Tuoto's "erroneous link" rate, as merges: clusters
   are connected components).
2. ``correct``: the true table whose expected observed table is the one seen (a fixed point:
   the fragmenting part is an exact triangular solve, fragments being subsets of the person's
   pattern), rounded to whole people (largest remainders), so every estimator, selection and
   bootstrap of ``ctip.estimate`` runs on it unchanged.

With no estimated error (all rates 0) the correction is the identity. ``errors_from_run``
estimates the rates from a linkage run itself (its clusters, scored pairs and review decisions:
no truth). What it cannot see is said in docs/methods/estimation.md ("Linkage errors").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ctip.errors import ValidationError
from ctip.estimate.histories import CaptureHistory, pattern_grid

if TYPE_CHECKING:
    from ctip.estimate.api import EstimateResult

#: the error process is enumerated exactly over each person's records (an 8-list pattern with a
#: duplicate has 9 records: 3^9 subset pairs, about 1 s of CPU); more lists are refused
MAX_LISTS_CORRECTED = 8


@dataclass(frozen=True)
class LinkageErrors:
    """Estimated linkage error rates between (and within) lists.

    ``missed[i, j]``: the probability that two records of one person, on lists i and j
    (``i == j``: two records on one list), are not linked directly. ``false_links[i, j]``
    (i <= j): expected number of links joining records of two different people on lists i and
    j. ``duplicated[i]``: share of the people on list i who have two records there.
    """

    lists: tuple[str, ...]
    missed: np.ndarray
    false_links: np.ndarray
    duplicated: np.ndarray
    source: str = ""
    #: what the rates were computed from (pairs, expected matches...), for the report
    basis: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = len(self.lists)
        for name, shape in (("missed", (t, t)), ("false_links", (t, t)), ("duplicated", (t,))):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != shape or not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ValueError(f"{name} must be a non-negative finite array of shape {shape}")
        if np.any(np.asarray(self.missed) > 1) or np.any(np.asarray(self.duplicated) > 1):
            raise ValueError("missed and duplicated are probabilities (at most 1)")

    @classmethod
    def none(cls, lists: Iterable[str]) -> LinkageErrors:
        names = tuple(lists)
        t = len(names)
        return cls(names, np.zeros((t, t)), np.zeros((t, t)), np.zeros(t), source="none")

    def for_lists(self, names: Iterable[str]) -> LinkageErrors:
        """The same rates with the lists in this order (a table's column order)."""
        names = tuple(names)
        if sorted(names) != sorted(self.lists):
            raise ValidationError(
                "the linkage run's lists ({run_lists}) are not the table's ({table_lists})",
                hint="estimate the capture histories of that run (`ctip link histories`)",
                params={"run_lists": ", ".join(self.lists), "table_lists": ", ".join(names)},
            )
        order = [self.lists.index(n) for n in names]
        false = self.false_links + np.triu(self.false_links, 1).T
        false = false[np.ix_(order, order)]
        return LinkageErrors(names, self.missed[np.ix_(order, order)], np.triu(false),
                             self.duplicated[order], source=self.source, basis=self.basis)

    def is_zero(self) -> bool:
        return not (np.any(self.missed) or np.any(self.false_links))

    def as_dict(self) -> dict[str, Any]:
        """Per list pair, for the report: missed-link rate and expected false links."""
        t = len(self.lists)
        pairs = []
        for i in range(t):
            for j in range(i, t):
                pairs.append({
                    "lists": [self.lists[i], self.lists[j]],
                    "missed_rate": round(float(self.missed[i, j]), 4),
                    "false_links": round(float(self.false_links[i, j]), 2),
                })
        return {
            "source": self.source,
            "pairs": pairs,
            "duplicated": {n: round(float(d), 4) for n, d in zip(self.lists, self.duplicated,
                                                                 strict=True)},
            **self.basis,
        }


def _fragments(labels: list[int], missed: np.ndarray, t: int) -> np.ndarray:
    """Expected fragments per pattern (bit-code cells) of one person with these records."""
    k = len(labels)
    full = (1 << k) - 1
    with np.errstate(divide="ignore"):
        log_miss = np.log(np.array([[missed[a, b] for b in labels] for a in labels]))
    # s[a][m]: sum of log P(no link) between record a and the records of mask m
    s = np.zeros((k, 1 << k))
    for m in range(1, 1 << k):
        low = (m & -m).bit_length() - 1
        s[:, m] = s[:, m & (m - 1)] + log_miss[:, low]

    def log_cut(a_mask: int, b_mask: int) -> float:
        total = 0.0
        m = a_mask
        while m:
            low = (m & -m).bit_length() - 1
            total += s[low, b_mask]
            m &= m - 1
        return total

    conn = np.zeros(1 << k)
    out = np.zeros(2**t - 1)
    for m in range(1, 1 << k):
        low_bit = m & -m
        rest = m ^ low_bit
        # P(connected) = 1 - P(the component of the lowest record is a proper subset)
        p_apart = 0.0
        sub = rest
        while True:
            part = sub | low_bit
            if part != m:
                p_apart += conn[part] * np.exp(log_cut(part, m ^ part))
            if sub == 0:
                break
            sub = (sub - 1) & rest
        conn[m] = max(0.0, 1.0 - p_apart)
        p_component = conn[m] * np.exp(log_cut(m, full ^ m)) if m != full else conn[m]
        if p_component > 0:
            code = 0
            for a in range(k):
                if m >> a & 1:
                    code |= 1 << labels[a]
            out[code - 1] += p_component
    return out


def fragment_matrix(t: int, missed: np.ndarray, duplicated: np.ndarray) -> np.ndarray:
    """A[f, w]: expected observed units of pattern f per person truly of pattern w (cells in
    bit-code order). With nothing missed it is the identity."""
    cells = 2**t - 1
    a = np.zeros((cells, cells))
    grid = pattern_grid(t)
    for w in range(cells):
        on = [j for j in range(t) if grid[w, j]]
        d = np.array([duplicated[j] for j in on])
        # at most one duplicate per person (two are rare: about d^2)
        none = float(np.prod(1 - d))
        weights = [none] + [float(d[i] * np.prod(np.delete(1 - d, i))) for i in range(len(on))]
        total = sum(weights)
        a[:, w] += weights[0] / total * _fragments(on, missed, t)
        for i, j in enumerate(on):
            if weights[i + 1] > 0:
                a[:, w] += weights[i + 1] / total * _fragments([*on, j], missed, t)
    return a


def merge_effect(units: np.ndarray, false_links: np.ndarray, t: int) -> np.ndarray:
    """Change in the table of units when the expected false links merge pairs of units."""
    grid = pattern_grid(t).astype(bool)
    codes = np.arange(1, 2**t)
    union = (codes[:, None] | codes[None, :]) - 1
    delta = np.zeros_like(units, dtype=float)
    for i in range(t):
        for j in range(i, t):
            f = float(false_links[i, j])
            if f <= 0:
                continue
            wi, wj = units * grid[:, i], units * grid[:, j]
            gi, gj = wi.sum(), wj.sum()
            if gi <= 0 or gj <= 0:
                continue
            f = min(f, gi / 2, gj / 2)
            pi, pj = wi / gi, wj / gj
            delta -= f * (pi + pj)
            np.add.at(delta, union.ravel(), f * np.outer(pi, pj).ravel())
    return delta


def expected_observed(true_counts: np.ndarray, errors: LinkageErrors,
                      fragments: np.ndarray | None = None) -> np.ndarray:
    """E[observed table] for a true table of people (observable cells, bit-code order)."""
    t = len(errors.lists)
    a = fragments if fragments is not None else fragment_matrix(
        t, errors.missed, errors.duplicated)
    units = a @ np.asarray(true_counts, dtype=float)
    return units + merge_effect(units, errors.false_links, t)


@dataclass(frozen=True)
class Correction:
    history: CaptureHistory  # the corrected table, whole people
    counts: np.ndarray  # the corrected table before rounding
    iterations: int
    converged: bool


def _round_total(values: np.ndarray) -> np.ndarray:
    """Whole numbers with the same (rounded) total, by largest remainders."""
    values = np.clip(values, 0, None)
    floor = np.floor(values)
    short = int(round(values.sum())) - int(floor.sum())
    if short > 0:
        order = np.argsort(-(values - floor), kind="stable")
        floor[order[:short]] += 1
    return floor.astype(np.int64)


def correct(history: CaptureHistory, errors: LinkageErrors, *, max_iterations: int = 500,
            tolerance: float = 1e-9) -> Correction:
    """The table of true people whose expected linked table is ``history``'s."""
    errors = errors.for_lists(history.lists)
    if history.t > MAX_LISTS_CORRECTED:
        raise ValidationError(
            "a linkage-error correction is computed for at most {most} lists; the table has "
            "{t}", hint="merge lists (e.g. link with --lists agency_type)",
            params={"most": MAX_LISTS_CORRECTED, "t": history.t})
    observed = history.counts.astype(float)
    if errors.is_zero():
        return Correction(history, observed, 0, True)
    t = history.t
    a = fragment_matrix(t, errors.missed, errors.duplicated)
    n = observed.copy()
    converged = False
    k = 0
    for k in range(1, max_iterations + 1):  # noqa: B007 (k reported)
        units = a @ n
        merged = merge_effect(units, errors.false_links, t)
        new = np.clip(np.linalg.solve(a, observed - merged), 0, None)
        step = float(np.max(np.abs(new - n)))
        n = new
        if step < tolerance * max(1.0, float(observed.sum())):
            converged = True
            break
    return Correction(history.with_counts(_round_total(n)), n, k, converged)


def errors_from_run(
    lists: Iterable[str],
    records: Iterable[tuple[str, str, str]],
    pairs: Iterable[tuple[str, str, float]],
    *,
    threshold: float,
    decided: Iterable[tuple[str, str, str]] = (),
    source: str = "",
    floor: float = 0.0,
) -> LinkageErrors:
    """Error rates of one linkage run, from its clusters and scored pairs (no truth needed).

    ``records``: (record id, list, cluster id); ``pairs``: (id, id, match probability) of the
    scored pairs (those at or above ``floor``); ``decided``: a reviewer's (id, id, "match" or
    "non_match"). A *direct link* is a pair at ``threshold`` or above whose records share a
    cluster, or one a reviewer matched.

    - **Missed links, from the clusters' redundancy.** In a cluster of three records or more
      every pair of records is one person's (if the cluster is right), and each such pair was
      or was not linked directly; a pair that was not is a link the model missed, bridged by
      another record. Their share estimates the probability that a true pair is not linked
      directly: once for pairs on two lists, once for pairs on one list (duplicates). This is
      the rate the error process needs, measured on the links themselves rather than read
      from the model's probabilities, which a Fellegi-Sunter model scores as if the fields
      were independent given the match status and are therefore over-confident (namesakes,
      families). A cluster that is a false merge counts its unlinked pairs as misses too.
    - **False links, from the model**: the sum of (1 - p) over the direct links.
    ``basis`` also gives what the model's probabilities alone would say about misses (the
    sum of p over the scored pairs not linked directly), for comparison.
    """
    names = tuple(lists)
    index = {n: i for i, n in enumerate(names)}
    t = len(names)
    list_of: dict[str, int] = {}
    members: dict[str, list[str]] = {}
    for record, name, cluster in records:
        list_of[record] = index[name]
        members.setdefault(cluster, []).append(record)
    cluster_of = {r: c for c, rs in members.items() for r in rs}
    verdict = {frozenset((a, b)): d for a, b, d in decided}
    direct: set[frozenset[str]] = set()
    false = np.zeros((t, t))
    model_missed = model_expected = 0.0
    scored = 0
    for a, b, p in pairs:
        if a not in list_of or b not in list_of:
            continue
        key = frozenset((a, b))
        p = {"match": 1.0, "non_match": 0.0}.get(verdict.get(key, ""), float(p))
        scored += 1
        model_expected += p
        if cluster_of[a] == cluster_of[b] and (p >= threshold or verdict.get(key) == "match"):
            direct.add(key)
            i, j = sorted((list_of[a], list_of[b]))
            false[i, j] += 1 - p
        else:
            model_missed += p
    for a, b, d in decided:  # a reviewer's match is a direct link, scored or not
        if d == "match" and a in cluster_of and cluster_of[a] == cluster_of.get(b):
            direct.add(frozenset((a, b)))
    pairs_in = np.zeros(2)  # [two lists, one list]
    unlinked = np.zeros(2)
    on = np.zeros(t)
    twice = np.zeros(t)
    for rs in members.values():
        counts: dict[int, int] = {}
        for r in rs:
            counts[list_of[r]] = counts.get(list_of[r], 0) + 1
        for i, c in counts.items():
            on[i] += 1
            twice[i] += c >= 2
        if len(rs) < 3:
            continue
        for x in range(len(rs)):
            for y in range(x + 1, len(rs)):
                same = int(list_of[rs[x]] == list_of[rs[y]])
                pairs_in[same] += 1
                unlinked[same] += frozenset((rs[x], rs[y])) not in direct
    rate = np.divide(unlinked, pairs_in, out=np.zeros(2), where=pairs_in > 0)
    missed = np.full((t, t), rate[0])
    np.fill_diagonal(missed, rate[1])
    duplicated = np.divide(twice, on, out=np.zeros(t), where=on > 0)
    basis = {
        "method": "missed: unlinked pairs inside clusters of 3+ records; false: model (1 - p)",
        "cluster_pairs_two_lists": int(pairs_in[0]),
        "cluster_pairs_one_list": int(pairs_in[1]),
        "missed_two_lists": round(float(rate[0]), 4),
        "missed_one_list": round(float(rate[1]), 4),
        "expected_false_links": round(float(false.sum()), 1),
        "scored_pairs": scored,
        "pair_probability_floor": floor,
        "model_expected_true_pairs": round(model_expected, 1),
        "model_expected_missed_pairs": round(model_missed, 1),
    }
    return LinkageErrors(names, np.clip(missed, 0, 1), np.triu(false), np.clip(duplicated, 0, 1),
                         source=source, basis=basis)


def estimate_corrected(
    history: CaptureHistory, errors: LinkageErrors, **options: Any
) -> EstimateResult:
    """``estimate`` on the corrected table, the uncorrected figure beside it in
    ``details.linkage_correction`` (with the rates used and both tables)."""
    from ctip.estimate.api import estimate

    fixed = correct(history, errors)
    raw = estimate(history, **options)
    result = estimate(fixed.history, **options)
    result.details["linkage_correction"] = {
        "applied": "linkage-error correction of the capture histories (Di Consiglio & Tuoto "
                   "2018 error process; rates from the linkage run)",
        "errors": errors.for_lists(history.lists).as_dict(),
        "uncorrected": {
            "observed": raw.observed,
            **{k: None if v is None else round(float(v), 1)
               for k, v in (("estimate", raw.estimate), ("ci_low", raw.ci_low),
                            ("ci_high", raw.ci_high))},
            "model": raw.model,
            "estimable": raw.estimable,
        },
        "observed_people_linked": history.observed,
        "observed_people_corrected": fixed.history.observed,
        "table": {
            "patterns": ["".join(map(str, row)) for row in history.patterns.tolist()],
            "linked": history.counts.tolist(),
            "corrected": fixed.history.counts.tolist(),
        },
        "iterations": fixed.iterations,
        "converged": fixed.converged,
    }
    if not fixed.converged:
        result.warnings.append("the linkage-error correction did not converge; its table is "
                               "the last iterate")
    return result
