"""Networks of posters: ads that share a phone, handle, e-mail or site, or near-identical text.

Near-identical text is found with MinHash signatures of word 4-shingles of the masked text and
locality-sensitive hashing (``datasketch``); a candidate pair counts when its estimated Jaccard
similarity reaches ``threshold``. Identifiers link every ad holding the same key (storage passes
keyed pseudonyms, so clustering never needs a phone number in clear). Components of the graph
are ``scipy.sparse.csgraph.connected_components``.

R13 (templated text under different company names) and R14 (one identifier across many ads,
companies or cities) come out of the same pass.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ctip.ads.indicators import Hit
from ctip.ads.shingles import batch_hashes, token_hashes
from ctip.ads.tokens import Tokens

NUM_PERM = 64
SHINGLE = 4
THRESHOLD = 0.8
_WORD = re.compile(r"\w+")


SCHEME = "affine32"  # datasketch 2's default: 32-bit hash values, stored as uint32


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    return MinHash(num_perm=num_perm, seed=1, scheme=SCHEME).permutations


def _identity(value: int) -> int:
    return value


def _shingle_hashes(masked_text: str) -> set[int]:
    """CRC-32 of each word 4-shingle ("w1 w2 w3 w4" in UTF-8; fewer words: each word).

    The words are joined once, so every shingle is a slice of the same bytes: no string is
    built per shingle."""
    words = _WORD.findall(masked_text.lower())
    if len(words) < SHINGLE:
        return {zlib.crc32(w.encode("utf-8")) for w in words or [""]}
    text = " ".join(words)
    data = memoryview(text.encode("utf-8"))
    lengths = (np.fromiter(map(len, words), np.int64, len(words)) if len(data) == len(text)
               else np.array([len(w.encode("utf-8")) for w in words], np.int64))
    starts = np.cumsum(lengths + 1) - lengths - 1  # each word's first byte
    ends = starts + lengths
    crc = zlib.crc32
    return {crc(data[a:b]) for a, b in zip(starts[: 1 - SHINGLE].tolist(),
                                           ends[SHINGLE - 1:].tolist(), strict=True)}


def signature(masked_text: str, num_perm: int = NUM_PERM) -> np.ndarray:
    """MinHash of the text's word 4-shingles (fewer words: the words themselves), uint32: the
    values datasketch's ``MinHash.update_batch`` gives (``signature_datasketch``)."""
    return signatures([masked_text], num_perm)[0]


def signatures(texts: Sequence[str], num_perm: int = NUM_PERM) -> np.ndarray:
    """``signature`` of each text, one row each, the hashing of the whole batch in numpy.

    datasketch's affine32 scheme, written out because its ``update_batch`` calls the hash
    function once per shingle in Python and takes one text at a time: each 32-bit shingle hash
    is mixed by the MurmurHash3 finalizer, then permutation k maps it to a_k * h + b_k (uint32
    arithmetic wraps, which is the scheme's modulo 2^32); a signature is the minimum per k."""
    if len(texts) >= 32:  # _shingle_hashes of each text, computed in numpy for the batch
        hashes = batch_hashes(texts)
    else:  # a few texts: numpy's per-call cost is more than zlib's per shingle
        hashes = [np.fromiter(_shingle_hashes(t), dtype=np.uint32) for t in texts]
    return _minhash(hashes, num_perm)


def token_signatures(toks: Tokens, num_perm: int = NUM_PERM) -> np.ndarray:
    """``signatures`` of the signature texts of a batch already split into words
    (``ctip.ads.tokens.of_ads``: the words the TF-IDF model reads too)."""
    return _minhash(token_hashes(toks), num_perm)


def _minhash(hashes: Sequence[np.ndarray], num_perm: int) -> np.ndarray:
    a, b = (p.astype(np.uint32) for p in _permutations(num_perm))
    out = np.empty((len(hashes), num_perm), dtype=np.uint32)
    step = max(1, 250_000 // (num_perm * 250))  # (shingles x permutations) blocks in cache
    for lo in range(0, len(hashes), step):
        chunk = hashes[lo:lo + step]
        hv = _fmix32(np.concatenate(chunk))
        values = np.multiply(hv[:, None], a[None, :])
        values += b[None, :]
        starts = np.cumsum([0] + [len(h) for h in chunk[:-1]])
        out[lo:lo + len(chunk)] = np.minimum.reduceat(values, starts, axis=0)
    return out


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signature_datasketch(masked_text: str, num_perm: int = NUM_PERM) -> np.ndarray:
    """The same signature through datasketch itself (the reference ``signatures`` is tested
    against)."""
    m = MinHash(num_perm=num_perm, hashfunc=_identity, permutations=_permutations(num_perm),
                scheme=SCHEME)
    m.update_batch(list(_shingle_hashes(masked_text)))
    return m.hashvalues.astype(np.uint32)


@dataclass(frozen=True)
class Posting:
    """What clustering needs of one ad (no text): its id, identifier keys with the span each one
    has in the ad, company key, location and MinHash signature."""

    ad_id: str
    identifiers: Sequence[tuple[str, int, int]]  # (key or keyed pseudonym, start, end)
    company: str
    location: str
    signature: np.ndarray | None
    body: tuple[int, int] = (0, 0)  # where the ad's text lies, for the R13 span


@dataclass
class Cluster:
    cluster_id: str
    ad_ids: list[str]
    shared: dict[str, int]  # identifier key -> ads of the cluster holding it (shared ones only)
    companies: int
    locations: list[str]
    near_duplicate_pairs: int


@dataclass
class Clustering:
    cluster_of: dict[str, str]  # ad id -> cluster id (clusters of two or more ads only)
    clusters: list[Cluster]
    hits: dict[str, list[Hit]] = field(default_factory=dict)  # R13 and R14 per ad id


def near_duplicates(postings: Sequence[Posting], threshold: float = THRESHOLD,
                    on_progress: Callable[[int], None] | None = None) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of postings whose texts are near-identical: the pairs datasketch's
    ``MinHashLSH`` (same bands) proposes whose estimated Jaccard similarity reaches
    ``threshold``.

    The banding is done for all signatures at once in numpy (each band's rows grouped by their
    values; every pair inside a group is a candidate) instead of one LSH query and insert per
    ad in Python; the candidates and the check are those of querying each ad against the ads
    before it (tests/ads/test_ads_fast_paths.py compares with MinHashLSH)."""
    found = [(i, p.signature) for i, p in enumerate(postings) if p.signature is not None]
    keep = [i for i, _ in found]
    if on_progress is not None:
        for _ in range(len(postings) // 5000):
            on_progress(5000)
    if len(keep) < 2:
        return []
    sigs = np.vstack([sig for _, sig in found]).astype(np.uint32)
    bands = MinHashLSH(threshold=threshold, num_perm=sigs.shape[1]).hashranges
    candidates = [_band_pairs(sigs[:, lo:hi]) for lo, hi in bands]
    pairs = np.unique(np.concatenate(candidates)) if candidates else np.zeros(0, np.int64)
    n = len(keep)
    first, second = pairs // n, pairs % n
    similar = np.zeros(len(pairs), bool)
    for lo in range(0, len(pairs), 100_000):  # bounded (pairs x permutations) blocks
        a, b = first[lo:lo + 100_000], second[lo:lo + 100_000]
        similar[lo:lo + 100_000] = (sigs[a] == sigs[b]).mean(axis=1) >= threshold
    index = np.array(keep)
    return list(zip(index[first[similar]].tolist(), index[second[similar]].tolist(),
                    strict=True))


def _band_pairs(band: np.ndarray) -> np.ndarray:
    """Every pair (i < j) of rows with the same values in this band, as i * n + j."""
    n = len(band)
    keys = np.ascontiguousarray(band).view(np.dtype((np.void, band.dtype.itemsize *
                                                     band.shape[1]))).ravel()
    _, group = np.unique(keys, return_inverse=True)
    order = np.argsort(group, kind="stable")  # rows by group, in row order within one
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, n])
    before = np.arange(n) - np.repeat(starts, sizes)  # earlier members of the same group
    total = int(before.sum())
    if not total:
        return np.zeros(0, np.int64)
    later = np.repeat(np.arange(n), before)
    step = np.arange(total) - np.repeat(np.cumsum(before) - before, before)
    earlier = later - before[later] + step
    i, j = order[earlier], order[later]
    return np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j)


def _components(n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    if not edges:
        return np.arange(n)
    a = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
    b = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
    graph = sparse.coo_matrix((np.ones(len(edges), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _cluster_id(ad_ids: Sequence[str]) -> str:
    return "c-" + hashlib.sha256(min(ad_ids).encode()).hexdigest()[:12]


def cluster(postings: Sequence[Posting], threshold: float = THRESHOLD,
            on_progress: Callable[[int], None] | None = None) -> Clustering:
    n = len(postings)
    holders: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(postings):
        for key in dict.fromkeys(k for k, _, _ in p.identifiers):
            holders[key].append(i)
    edges: list[tuple[int, int]] = []
    for members in holders.values():
        edges += [(members[0], m) for m in members[1:]]
    text_pairs = near_duplicates(postings, threshold, on_progress)
    labels = _components(n, edges + text_pairs)
    text_labels = _components(n, text_pairs)

    hits: dict[str, list[Hit]] = defaultdict(list)
    # R13: near-identical text under two or more company names
    text_groups: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(text_labels):
        text_groups[int(label)].append(i)
    for members in text_groups.values():
        companies = {postings[i].company for i in members if postings[i].company}
        if len(members) >= 2 and len(companies) >= 2:
            for i in members:
                p = postings[i]
                hits[p.ad_id].append(Hit(
                    "R13", p.body[0], p.body[1],
                    f"near-identical text in {len(members)} ads under {len(companies)} company "
                    "names", {"ads": len(members), "companies": len(companies)}))
    # R14: one identifier across company names (an unnamed poster counts as a name of its
    # own), or across places when no ad names a company; one company posting its own phone
    # in many ads and cities is ordinary and does not fire
    for key, members in holders.items():
        if len(members) < 2:
            continue
        names = {postings[i].company for i in members}
        cities = {postings[i].location for i in members if postings[i].location}
        if not (len(names) >= 2 or (names == {""} and len(cities) >= 2)):
            continue
        kind = key.split(":", 1)[0]
        for i in members:
            p = postings[i]
            if any(h.code == "R14" for h in hits[p.ad_id]):
                continue
            start, end = next((s, e) for k, s, e in p.identifiers if k == key)
            named = len(names - {""})
            hits[p.ad_id].append(Hit(
                "R14", start, end,
                f"this {kind} appears in {len(members)} ads, under {named} company "
                f"name{'s' if named != 1 else ''}{' and unnamed' if '' in names else ''}, "
                f"in {len(cities)} place{'s' if len(cities) != 1 else ''}",
                {"ads": len(members), "companies": named, "places": len(cities)}))

    groups: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        groups[int(label)].append(i)
    clusters: list[Cluster] = []
    cluster_of: dict[str, str] = {}
    pair_count: dict[int, int] = defaultdict(int)
    for i, _ in text_pairs:
        pair_count[int(labels[i])] += 1
    for label, members in groups.items():
        if len(members) < 2:
            continue
        ad_ids = [postings[i].ad_id for i in members]
        cid = _cluster_id(ad_ids)
        counts: dict[str, int] = defaultdict(int)
        for i in members:
            for key in dict.fromkeys(k for k, _, _ in postings[i].identifiers):
                counts[key] += 1
        clusters.append(Cluster(
            cid, ad_ids, {k: c for k, c in counts.items() if c >= 2},
            len({postings[i].company for i in members if postings[i].company}),
            sorted({postings[i].location for i in members if postings[i].location}),
            pair_count[label]))
        for ad_id in ad_ids:
            cluster_of[ad_id] = cid
    clusters.sort(key=lambda c: (-len(c.ad_ids), c.cluster_id))
    return Clustering(cluster_of, clusters, dict(hits))
