"""Dice matching of encodings, 1-1 assignment between lists, and clustering.

Dice(A, B) = 2 |A and B| / (|A| + |B|). The comparisons run in ``dice_kernel`` (the CPU's
popcount on 64-bit words, compiled by numba, tiled and on every core). ``dice_pairs_blas`` is the
matcher it replaced, kept as the reference the kernel must equal bit for bit (a property test)
and as the benchmark's numpy baseline: the intersections of a block of pairs from one matrix
product of the 0/1 bit matrices (BLAS). Float32 is exact here: counts stay far below 2**24.
Written by hand because the library that does this (anonlink) is unmaintained
(LINKAGE-AND-PRIVACY.md section 4.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ctip.linkage import dice_kernel
from ctip.linkage.pprl import Encoded

#: Dice similarity of balanced filters at or above which two encodings are the same person.
DEFAULT_DICE_THRESHOLD = 0.75


def _unpack(clks: np.ndarray) -> np.ndarray:
    return np.unpackbits(clks, axis=1).astype(np.float32)


def dice_pairs(
    a: np.ndarray, b: np.ndarray, threshold: float, *, same: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j, dice) with dice >= threshold between packed encodings ``a`` and ``b``, sorted by
    (i, j). ``same=True`` compares a list with itself and keeps each pair once (i < j)."""
    return dice_kernel.dice_pairs(a, b, threshold, same=same)


def dice_pairs_blas(
    a: np.ndarray, b: np.ndarray, threshold: float, *, chunk: int = 2048, same: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numpy/BLAS matcher (reference and baseline): the same pairs as ``dice_pairs``, in
    block order rather than sorted."""
    count_a = np.bitwise_count(a).sum(axis=1, dtype=np.float32)
    count_b = np.bitwise_count(b).sum(axis=1, dtype=np.float32)
    # Balanced filters all have the same weight: then Dice >= t is simply |A and B| >= t * w,
    # one comparison per pair instead of a division.
    weight = count_a[0] if len(count_a) else 0.0
    balanced = bool(len(count_a) and len(count_b)) and bool(
        (count_a == weight).all() and (count_b == weight).all()
    )
    # unpack each side once (4 bytes per bit), chunk by chunk
    chunks_a = [_unpack(a[s : s + chunk]) for s in range(0, len(a), chunk)]
    out_i, out_j, out_s = [], [], []
    for start_b in range(0, len(b), chunk):
        bits_b = _unpack(b[start_b : start_b + chunk]).T.copy()
        cb = count_b[start_b : start_b + chunk]
        for n_a, bits_a in enumerate(chunks_a):
            start_a = n_a * chunk
            if same and start_a >= start_b + chunk:
                continue
            inter = bits_a @ bits_b
            if balanced:
                i, j = np.nonzero(inter >= threshold * weight - 1e-3)
                score = 2.0 * inter[i, j] / (2.0 * weight)
            else:
                denom = count_a[start_a : start_a + chunk, None] + cb[None, :]
                full = 2.0 * inter / np.maximum(denom, 1.0)
                i, j = np.nonzero(full >= threshold)
                score = full[i, j]
            gi, gj = i + start_a, j + start_b
            if same:
                keep = gi < gj
                gi, gj, score = gi[keep], gj[keep], score[keep]
            out_i.append(gi)
            out_j.append(gj)
            out_s.append(score.astype(np.float32))
    if not out_i:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_s)


def blocked_dice_pairs(
    a: Encoded,
    b: Encoded,
    threshold: float,
    *,
    same: bool = False,
    max_all_to_all: int = 2_000_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dice pairs sorted by (i, j), all-to-all when small enough (the kernel compares ~10^8-10^9
    pairs a second), else only within shared blocking buckets (a pair found in several blocking
    columns is kept once)."""
    if len(a.ids) * len(b.ids) <= max_all_to_all or a.blocks.shape[1] == 0:
        return dice_pairs(a.clks, b.clks, threshold, same=same)
    parts_i, parts_j, parts_s = [], [], []
    for col in range(a.blocks.shape[1]):
        ka, kb = a.blocks[:, col], b.blocks[:, col]
        order_a, order_b = np.argsort(ka, kind="stable"), np.argsort(kb, kind="stable")
        sorted_a, sorted_b = ka[order_a], kb[order_b]
        buckets = np.intersect1d(sorted_a[sorted_a >= 0], sorted_b[sorted_b >= 0])
        from_a = np.searchsorted(sorted_a, buckets, "left")
        to_a = np.searchsorted(sorted_a, buckets, "right")
        from_b = np.searchsorted(sorted_b, buckets, "left")
        to_b = np.searchsorted(sorted_b, buckets, "right")
        for sa, ea, sb, eb in zip(from_a, to_a, from_b, to_b, strict=True):
            ii, jj = order_a[sa:ea], order_b[sb:eb]
            bi, bj, bs = dice_pairs(a.clks[ii], b.clks[jj], threshold)
            gi, gj = ii[bi], jj[bj]
            if same:
                keep = gi < gj
                gi, gj, bs = gi[keep], gj[keep], bs[keep]
            parts_i.append(gi)
            parts_j.append(gj)
            parts_s.append(bs)
    if not parts_i:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    i, j, score = np.concatenate(parts_i), np.concatenate(parts_j), np.concatenate(parts_s)
    _, first = np.unique(i * np.int64(len(b.ids)) + j, return_index=True)
    return i[first], j[first], score[first]


def greedy_one_to_one(i: np.ndarray, j: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Mask of pairs kept when each record may match at most one record of the other list.

    Best pairs first (ties broken by index, so the result is deterministic).
    """
    keep = np.zeros(len(i), dtype=bool)
    if len(i) == 0:
        return keep
    # pairs whose two records have no other candidate are kept outright; only contested pairs
    # go through the (Python) greedy loop
    _, inv_i, cnt_i = np.unique(i, return_inverse=True, return_counts=True)
    _, inv_j, cnt_j = np.unique(j, return_inverse=True, return_counts=True)
    alone = (cnt_i[inv_i] == 1) & (cnt_j[inv_j] == 1)
    keep[alone] = True
    contested = np.flatnonzero(~alone)
    order = contested[np.lexsort((j[contested], i[contested], -score[contested]))]
    used_i: set[int] = set()
    used_j: set[int] = set()
    for k in order:
        x, y = int(i[k]), int(j[k])
        if x in used_i or y in used_j:
            continue
        used_i.add(x)
        used_j.add(y)
        keep[k] = True
    return keep


@dataclass
class MatchResult:
    pairs: pd.DataFrame  # list_l, id_l, list_r, id_r, dice
    clusters: pd.DataFrame  # list, id, cluster_id
    comparisons: int


def match_encodings(
    lists: Sequence[Encoded],
    threshold: float = DEFAULT_DICE_THRESHOLD,
    *,
    dedupe_within: bool = True,
) -> MatchResult:
    """Link several agencies' encodings: 1-1 best matches between each pair of lists, optional
    duplicates within a list, then connected components give one cluster per person."""
    checks = {e.key_check for e in lists}
    if len(checks) > 1:
        raise ValueError(
            "the encodings were made with different secrets (key_check differs); "
            "every agency must encode with the same shared linkage secret"
        )
    widths = {e.clks.shape[1] for e in lists}
    if len(widths) > 1:
        raise ValueError("the encodings were made with different schemas (filter sizes differ)")
    offsets = np.cumsum([0] + [len(e.ids) for e in lists])
    rows: list[pd.DataFrame] = []
    comparisons = 0
    for x, ea in enumerate(lists):
        for y in range(x, len(lists)):
            eb = lists[y]
            if x == y and not dedupe_within:
                continue
            i, j, s = blocked_dice_pairs(ea, eb, threshold, same=(x == y))
            comparisons += len(ea.ids) * len(eb.ids) // (2 if x == y else 1)
            if x != y:
                keep = greedy_one_to_one(i, j, s)
                i, j, s = i[keep], j[keep], s[keep]
            rows.append(
                pd.DataFrame(
                    {
                        "a": i + offsets[x],
                        "b": j + offsets[y],
                        "dice": s,
                        "list_l": ea.list_name,
                        "id_l": ea.ids[i],
                        "list_r": eb.list_name,
                        "id_r": eb.ids[j],
                    }
                )
            )
    pairs = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["a", "b", "dice", "list_l", "id_l", "list_r", "id_r"])
    )
    total = int(offsets[-1])
    graph = coo_matrix(
        (np.ones(len(pairs)), (pairs["a"].astype(int), pairs["b"].astype(int))),
        shape=(total, total),
    )
    _, labels = connected_components(graph, directed=False)
    clusters = pd.DataFrame(
        {
            "list": np.concatenate([[e.list_name] * len(e.ids) for e in lists]) if lists else [],
            "id": np.concatenate([e.ids for e in lists]) if lists else [],
            "cluster_id": [f"c{label:07d}" for label in labels],
        }
    )
    return MatchResult(
        pairs=pairs.drop(columns=["a", "b"]), clusters=clusters, comparisons=comparisons
    )
