"""The Dice comparison kernel: the CPU's popcount over 64-bit words, compiled by numba.

Dice(A, B) = 2 |A and B| / (|A| + |B|). Each pair costs one AND and one popcount per 64-bit word
(16 words for a 1,024-bit encoding); LLVM turns the loop into vector popcounts where the CPU has
them (AVX-512 VPOPCNTDQ, or the scalar POPCNT instruction). The work is tiled so that a tile of
the right-hand encodings stays in the core's cache while a tile of left-hand rows is compared
with it, and the tiles of left-hand rows are spread over every core (numba ``prange``).

Before any comparison the cardinalities prune pairs that cannot reach the threshold: Dice is at
most 2 min(|A|, |B|) / (|A| + |B|), so with the right-hand side sorted by cardinality only a
contiguous window of it can match a given row (balanced encodings all have the same weight, so
there nothing is pruned and the kernel's speed is what counts).

Results are bit for bit those of the numpy/BLAS matcher this replaced (``dice.dice_pairs_blas``,
kept as the reference and the benchmark baseline): the same selection rule and the same float32
arithmetic, pairs returned sorted by (i, j). Memory is flat: each left-hand chunk gets a small
fixed number of result slots per row, and the rare row with more candidates is compared again
with room for all of them.

Written by hand because the library that did this (anonlink's C++ kernel) is unmaintained and
pins old dependencies (LINKAGE-AND-PRIVACY.md section 4.1); numba is the well-kept compiler.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

TILE_A = 32  # left-hand rows per task
TILE_B = 1024  # right-hand rows kept in cache together (1,024 x 128 bytes = 128 KiB)
SLOTS = 8  # result slots per left-hand row before that row is compared again
CHUNK_ROWS = 16384  # left-hand rows per kernel call: bounds the result buffers


@intrinsic
def _popcount(typingctx, x):
    """LLVM's ctpop on a 64-bit word (numba has no popcount of its own)."""
    signature = types.uint64(types.uint64)

    def codegen(context, builder, sig, args):
        function = builder.module.declare_intrinsic("llvm.ctpop", [args[0].type])
        return builder.call(function, args)

    return signature, codegen


@njit(inline="always", nogil=True, cache=True)
def _score(a, i, b, p, cardinalities, balanced, cut, t32):
    """Dice of a[i] and b[p] if the pair is kept, else -1, by the replaced matcher's rule and
    float32 arithmetic: balanced filters keep |A and B| >= cut (t * w - 0.001), others Dice >= t."""
    inter = np.uint64(0)
    for w in range(a.shape[1]):
        inter += _popcount(a[i, w] & b[p, w])  # type: ignore[call-arg]
    f_inter = np.float32(inter)
    if balanced and not f_inter >= cut:
        return np.float32(-1.0)
    score = (np.float32(2.0) * f_inter) / np.float32(max(cardinalities, 1))
    if not balanced and not score >= t32:
        return np.float32(-1.0)
    return score


@njit(parallel=True, nogil=True, cache=True)
def _kernel(a, ca, b, cb, b_index, lo, hi, balanced, cut, t32, same,
            slots, out_j, out_s, out_n):
    """Compare rows of ``a`` with the rows of ``b`` (sorted by cardinality) in [lo[i], hi[i])."""
    n = a.shape[0]
    tiles = (n + TILE_A - 1) // TILE_A
    for tile in prange(tiles):
        start = tile * TILE_A
        stop = min(start + TILE_A, n)
        first = lo[start]
        last = hi[start]
        for i in range(start, stop):
            out_n[i] = 0
            first = min(first, lo[i])
            last = max(last, hi[i])
        for tb in range(first, last, TILE_B):
            tb_end = min(tb + TILE_B, last)
            for i in range(start, stop):
                j0 = max(tb, lo[i])
                j1 = min(tb_end, hi[i])
                cai = ca[i]
                for p in range(j0, j1):
                    j = b_index[p]
                    if same and j <= i:
                        continue
                    score = _score(a, i, b, p, cai + cb[p], balanced, cut, t32)
                    if score < 0:
                        continue
                    k = out_n[i]
                    if k < slots:
                        out_j[i, k] = j
                        out_s[i, k] = score
                    out_n[i] = k + 1


def _windows(ca: np.ndarray, cb_sorted: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """For each left row, the window of the sorted right side whose cardinality can reach the
    threshold (with a margin, so float rounding never prunes a pair that would be kept)."""
    t = float(np.float32(threshold))  # the kernel compares with the float32 threshold
    if t <= 0:  # every pair is kept, even two empty filters (Dice 0)
        return np.zeros(len(ca), np.int64), np.full(len(ca), len(cb_sorted), np.int64)
    with np.errstate(over="ignore"):  # a tiny threshold gives an unbounded window: fine
        low = ca * t / (2.0 - t) - 1e-6 * (ca + 1)
        high = ca * (2.0 - t) / t + 1e-6 * (ca + 1)
    lo = np.searchsorted(cb_sorted, np.floor(low), side="left").astype(np.int64)
    hi = np.searchsorted(cb_sorted, np.ceil(high), side="right").astype(np.int64)
    return lo, hi


def _as_words(packed: np.ndarray) -> np.ndarray:
    """Packed bits (n, bytes) as 64-bit words, zero-padded to a whole number of words."""
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.hstack([packed, np.zeros((packed.shape[0], pad), np.uint8)])
    return packed.view(np.uint64)


def dice_pairs(
    a: np.ndarray, b: np.ndarray, threshold: float, *, same: bool = False,
    chunk_rows: int = CHUNK_ROWS, slots: int = SLOTS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j, dice) with dice >= threshold between packed encodings ``a`` and ``b``, sorted by
    (i, j). ``same=True`` compares a list with itself and keeps each pair once (i < j).
    ``chunk_rows`` and ``slots`` size the result buffers (tests make them small)."""
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    if len(a) == 0 or len(b) == 0:
        return empty
    ca = np.bitwise_count(a).sum(axis=1, dtype=np.int64)
    cb = np.bitwise_count(b).sum(axis=1, dtype=np.int64)
    # the selection rule of the matcher this replaced, in its float32 arithmetic: balanced
    # filters (one weight on both sides) keep |A and B| >= t * w - 0.001, others Dice >= t
    weight = np.float32(ca[0])
    balanced = bool((ca == ca[0]).all() and (cb == ca[0]).all())
    cut = np.float32(np.float32(threshold) * weight - np.float32(1e-3))
    order = np.argsort(cb, kind="stable")
    b_sorted = _as_words(b)[order]
    cb_sorted = cb[order]
    words_a = _as_words(a)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(a), chunk_rows):
        rows = words_a[start:start + chunk_rows]
        counts = ca[start:start + chunk_rows]
        lo, hi = _windows(counts, cb_sorted, threshold)
        # in a list compared with itself, right-hand indices are shifted like the chunk's rows,
        # so that the kernel's "j > i" is the original rows' order
        index = order - start if same else order
        i, j, s = _run(rows, counts, b_sorted, cb_sorted, index, lo, hi, balanced, cut,
                       np.float32(threshold), same, slots)
        out.append((i + start, j + (start if same else 0), s))
    i = np.concatenate([o[0] for o in out])
    j = np.concatenate([o[1] for o in out])
    s = np.concatenate([o[2] for o in out])
    key = np.lexsort((j, i))
    return i[key], j[key], s[key]


def _run(a, ca, b, cb, b_index, lo, hi, balanced, cut, t32, same,
         slots):
    n = len(a)
    out_j = np.empty((n, slots), np.int64)
    out_s = np.empty((n, slots), np.float32)
    out_n = np.zeros(n, np.int64)
    _kernel(a, ca, b, cb, b_index, lo, hi, balanced, cut, t32, same, slots, out_j, out_s, out_n)
    full = out_n <= slots
    rows = np.repeat(np.arange(n), np.minimum(out_n, slots))
    mask = np.arange(slots)[None, :] < np.minimum(out_n, slots)[:, None]
    i_parts, j_parts, s_parts = [rows[full[rows]]], [out_j[mask][full[rows]]], \
        [out_s[mask][full[rows]]]
    over = np.flatnonzero(~full)
    if len(over):  # rows with more candidates than slots: compare them again with room for all
        wide = int(out_n[over].max())
        sub_j = np.empty((len(over), wide), np.int64)
        sub_s = np.empty((len(over), wide), np.float32)
        sub_n = np.zeros(len(over), np.int64)
        _kernel_rows(a, ca, b, cb, b_index, lo, hi, balanced, cut, t32, same, over, wide,
                     sub_j, sub_s, sub_n)
        sub_mask = np.arange(wide)[None, :] < sub_n[:, None]
        i_parts.append(np.repeat(over, sub_n))
        j_parts.append(sub_j[sub_mask])
        s_parts.append(sub_s[sub_mask])
    return np.concatenate(i_parts), np.concatenate(j_parts), np.concatenate(s_parts)


@njit(parallel=True, nogil=True, cache=True)
def _kernel_rows(a, ca, b, cb, b_index, lo, hi, balanced, cut, t32, same, rows, slots,
                 out_j, out_s, out_n):
    """The same comparison for a few chosen rows of ``a`` (those that ran out of slots)."""
    for r in prange(len(rows)):
        i = rows[r]
        cai = ca[i]
        k = 0
        for p in range(lo[i], hi[i]):
            j = b_index[p]
            if same and j <= i:
                continue
            score = _score(a, i, b, p, cai + cb[p], balanced, cut, t32)
            if score < 0:
                continue
            if k < slots:
                out_j[r, k] = j
                out_s[r, k] = score
            k += 1
        out_n[r] = k
