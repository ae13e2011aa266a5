"""The compiled Dice kernel gives bit for bit the pairs and scores of the numpy/BLAS matcher it
replaced, whatever the filters (balanced or not, any width, duplicates, a list against itself)
and however its buffers are cut (chunks of rows, result slots that overflow); the blocked path
finds exactly the pairs that share a blocking bucket."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ctip.linkage import dice_kernel
from ctip.linkage.dice import blocked_dice_pairs, dice_pairs_blas
from ctip.linkage.pprl import Encoded


def _sorted(i, j, s):
    key = np.lexsort((j, i))
    return i[key], j[key], s[key]


def _filters(rng, n, m, nbytes, density, balanced, copies):
    bits_a = rng.random((n, nbytes * 8)) < density
    bits_b = rng.random((m, nbytes * 8)) < density
    k = min(copies, n, m)
    bits_b[:k] = bits_a[:k] ^ (rng.random((k, nbytes * 8)) < 0.05)  # near-duplicates
    if balanced:
        bits_a, bits_b = np.hstack([bits_a, ~bits_a]), np.hstack([bits_b, ~bits_b])
    return np.packbits(bits_a, axis=1), np.packbits(bits_b, axis=1)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 120), m=st.integers(1, 120), nbytes=st.sampled_from([1, 3, 8, 13, 64]),
    density=st.floats(0.05, 0.95), balanced=st.booleans(), copies=st.integers(0, 60),
    threshold=st.one_of(st.sampled_from([0.0, 0.3, 0.5, 0.75, 0.8, 0.9, 1.0]), st.floats(0, 1)),
    same=st.booleans(),
    chunk_rows=st.integers(1, 64), slots=st.integers(1, 9), seed=st.integers(0, 2**32 - 1),
)
def test_kernel_equals_the_blas_matcher_bit_for_bit(
    n, m, nbytes, density, balanced, copies, threshold, same, chunk_rows, slots, seed
) -> None:
    rng = np.random.default_rng(seed)
    a, b = _filters(rng, n, m, nbytes, density, balanced, copies)
    if same:
        b = a
    # every filter on both sides empty: the replaced matcher divided 0 by 0 (NaN), the kernel
    # scores 0; no real encoding is empty (balanced ones have half their bits set)
    assume(np.bitwise_count(a).any() or np.bitwise_count(b).any())
    got = dice_kernel.dice_pairs(a, b, threshold, same=same, chunk_rows=chunk_rows, slots=slots)
    want = _sorted(*dice_pairs_blas(a, b, threshold, same=same))
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype or g.dtype.kind == w.dtype.kind
        assert np.array_equal(g, w)  # same pairs, same float32 scores (bit for bit)


def _encoded(name, clks, blocks):
    return Encoded(list_name=name, ids=np.array([f"{name}{k}" for k in range(len(clks))]),
                   clks=clks, blocks=blocks, key_check="k")


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 80), m=st.integers(2, 80), buckets=st.integers(1, 6),
       same=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_blocked_path_finds_the_pairs_that_share_a_bucket(n, m, buckets, same, seed) -> None:
    rng = np.random.default_rng(seed)
    a, b = _filters(rng, n, m, 16, 0.4, True, n // 2)
    blocks_a = rng.integers(-1, buckets, size=(n, 2))
    blocks_b = rng.integers(-1, buckets, size=(m, 2))
    if same:
        b, blocks_b = a, blocks_a
    left, right = _encoded("A", a, blocks_a), _encoded("B", b, blocks_b)
    i, j, s = blocked_dice_pairs(left, right, 0.6, same=same, max_all_to_all=0)
    all_i, all_j, all_s = dice_kernel.dice_pairs(a, b, 0.6, same=same)
    shared = ((blocks_a[all_i] == blocks_b[all_j]) & (blocks_a[all_i] >= 0)).any(axis=1)
    assert np.array_equal(i, all_i[shared]) and np.array_equal(j, all_j[shared])
    assert np.array_equal(s, all_s[shared])
