"""The per-ad part of screening (analyse, MinHash signature, model score), in file order,
optionally spread over worker processes while the calling process seals and stores.

Why processes: analysis is pure Python and CPU-bound (the GIL rules out threads); the store takes
one writer. Batches come back in file order, so duplicates, rejects and counts are the same
whatever the number of workers (tested). Workers receive the trained model through their
start-up pipe, never a file, and no key: sealing and keyed hashes stay in the calling process.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from ctip.ads import tokens
from ctip.ads.classify import AdModel, indicator_score
from ctip.ads.cluster import token_signatures
from ctip.ads.pipeline import Analysis, analyse
from ctip.ads.records import Ad, RejectedAd

BATCH = 2000


@dataclass
class Prepared:
    analysis: Analysis
    signature: bytes
    score: float


@dataclass
class PreparedBatch:
    read: int
    rejects: list[RejectedAd]
    ads: list[Prepared]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector held off for one batch. A batch makes tens of thousands of
    small objects and no cycles, and each collection the allocations set off walks every object
    the process holds (a caller holding many ads pays most): a fifth of the time of a batch."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def prepare(items: Sequence[Ad | RejectedAd], model: AdModel | None) -> PreparedBatch:
    with gc_paused():
        return _prepare(items, model)


def _prepare(items: Sequence[Ad | RejectedAd], model: AdModel | None) -> PreparedBatch:
    rejects = [i for i in items if isinstance(i, RejectedAd)]
    analyses = [analyse(i) for i in items if isinstance(i, Ad)]
    codes = [{h.code for h in a.hits} for a in analyses]
    masked = [a.masked() for a in analyses]
    # each masked text split into words once, for the model and the MinHash shingles
    toks = tokens.of_ads(masked, [a.masked("body") for a in analyses])
    if model is not None and analyses:
        scores = model.predict(masked, codes, toks)
    else:
        scores = np.array([indicator_score(c) for c in codes])
    sigs = token_signatures(toks)
    return PreparedBatch(len(items), rejects, [
        Prepared(a, sig.tobytes(), float(s))
        for a, sig, s in zip(analyses, sigs, scores, strict=True)])


_MODEL: AdModel | None = None


def _start(model_bytes: bytes | None) -> None:
    global _MODEL
    _MODEL = AdModel.from_bytes(model_bytes) if model_bytes else None


def _prepare_in_worker(items: list[Ad | RejectedAd]) -> bytes:
    """The batch pickled here, so the calling process unpickles it with the collector held off
    (``_loads``; the pool's own unpickling cannot be). The collector stays off until the
    pickled batch's objects are freed: switched on while they live, its first collection walks
    them all (a few per cent of a worker's time)."""
    with gc_paused():
        return pickle.dumps(_prepare(items, _MODEL), protocol=pickle.HIGHEST_PROTOCOL)


def _loads(blob: bytes) -> PreparedBatch:
    with gc_paused():
        # bytes from this process's own worker, over the pool's pipe (as the pool's results)
        batch: PreparedBatch = pickle.loads(blob)  # noqa: S301
    return batch


def _batches(stream: Iterable[Ad | RejectedAd], size: int) -> Iterator[list[Ad | RejectedAd]]:
    pending: list[Ad | RejectedAd] = []
    for item in stream:
        pending.append(item)
        if len(pending) >= size:
            yield pending
            pending = []
    if pending:
        yield pending


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def prepared(stream: Iterable[Ad | RejectedAd], model: AdModel | None, *, workers: int = 1,
             batch: int = BATCH) -> Iterator[PreparedBatch]:
    """Prepared batches in file order. With ``workers`` > 1 the first batch is prepared here
    (small files never start a pool) and later ones by the workers."""
    batches = _batches(stream, batch)
    first = next(batches, None)
    if first is None:
        return
    if workers <= 1:
        yield prepare(first, model)
        for items in batches:
            yield prepare(items, model)
        return
    second = next(batches, None)
    if second is None:
        yield prepare(first, model)
        return
    methods = multiprocessing.get_all_start_methods()
    # forkserver, not fork: the caller may run threads (progress bars) and hold open databases
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":  # workers fork from a server that has the
        # modules and tables built (no effect when the process's fork server already runs)
        context.set_forkserver_preload(["__main__", "ctip.ads.warm"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start,
                             initargs=(model.to_bytes() if model else None,)) as pool:
        flight: deque[Future[bytes]] = deque([pool.submit(_prepare_in_worker, second)])
        for items in batches:
            flight.append(pool.submit(_prepare_in_worker, items))
            if len(flight) > workers:
                break
        yield prepare(first, model)  # the calling process works too while the pool starts
        for items in batches:
            yield _loads(flight.popleft().result())
            flight.append(pool.submit(_prepare_in_worker, items))
        while flight:
            yield _loads(flight.popleft().result())
