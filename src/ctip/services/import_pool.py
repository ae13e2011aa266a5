"""The per-row part of an import (map, check, derive, hash, seal), in order, optionally spread
over worker processes while the calling process reads the file and writes the store.

Why processes: mapping and sealing a row is pure Python and CPU-bound (the GIL rules out
threads), and the database takes one writer at a time anyway. The file is read in the calling
process (row numbers and reader errors stay exact), cut into chunks, mapped by the workers, and
the outcomes come back **in file order**, so duplicate detection, rejects and counts are the same
whatever the number of workers (tested).

Keys: each worker gets the sealing key ring and the pseudonym key through its start-up pipe
(never a file); they live in the worker's memory only while the import runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from ctip.domain.problems import RejectedRow, SkippedRow
from ctip.domain.records import Perpetrator, VictimRecord
from ctip.errors import InputFileError
from ctip.ingest.profiles import get_profile
from ctip.storage.victim_rows import PreparedVictim, VictimPreparer

Chunk = list[tuple[int, dict[str, str]]]
# one row's outcome: (row number, prepared victim or reject, perpetrators described in the row)
Outcome = tuple[int, PreparedVictim | RejectedRow | SkippedRow, tuple[Perpetrator, ...]]

CHUNK_ROWS = 1000  # rows per task sent to a worker: big enough that pickling overhead is small
# chunks sent ahead of the one being stored: enough to keep the workers busy while this process
# writes a whole batch (5,000 rows by default), about 10 MB of rows in flight
IN_FLIGHT = 16
MIN_ROWS_FOR_WORKERS = 20_000  # below this, starting processes costs more than it saves


@dataclass(frozen=True)
class RowMapper:
    """Everything a chunk needs, picklable: sent once to each worker at its start."""

    profile: str
    source_file: str
    agency: str | None
    today: date
    batch_id: str
    preparer: VictimPreparer

    def __call__(self, chunk: Chunk) -> list[Outcome]:
        prof = get_profile(self.profile)
        wants_perpetrators = prof.has_perpetrators
        records: list[VictimRecord] = []
        mapped: list[tuple[int, VictimRecord | RejectedRow | SkippedRow,
                           tuple[Perpetrator, ...]]] = []
        for number, raw in chunk:
            result = prof.map_row(raw, source_file=self.source_file, source_row=number,
                                  agency=self.agency, today=self.today)
            perps: tuple[Perpetrator, ...] = ()
            if isinstance(result, VictimRecord):
                records.append(result)
                if wants_perpetrators:
                    perps = tuple(prof.perpetrators(raw, result))
            mapped.append((number, result, perps))
        prepared = iter(self.preparer.prepare(records, self.batch_id))
        return [(number, next(prepared) if isinstance(result, VictimRecord) else result, perps)
                for number, result, perps in mapped]


_WORKER: list[RowMapper] = []
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _start_worker(mapper: RowMapper, importer: int) -> None:
    _WORKER[:] = [mapper]
    _die_with(importer)


def _die_with(importer: int) -> None:
    """A worker holds the sealing key in memory: it must not outlive the import (kill -9 of the
    importer gives it no chance to stop its pool). The kernel kills the worker when its parent
    (the fork server) exits (``PR_SET_PDEATHSIG``, Linux); a watcher thread also ends it when
    the importer itself is gone or it was handed to another parent (other systems)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent or not _alive(importer):
                os._exit(70)

    threading.Thread(target=watch, name="ctip-die-with-importer", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed importer not yet reaped is a zombie: gone all the same
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[:1] != ["Z"]
    except OSError:
        return True


# A chunk on its way to a worker: (row number, column names, values), the names one shared
# tuple per chunk (pickle writes it once), or (row number, None, row) for a row with problems.
# Unpickling 27-key dicts cost the worker about 11 microseconds per row; this, about 4.
Packed = list[tuple[int, tuple[str, ...] | None, Any]]


def pack(chunk: Chunk) -> Packed:
    names: dict[tuple[str, ...], tuple[str, ...]] = {}
    out: Packed = []
    for number, raw in chunk:
        if type(raw) is dict:
            keys = tuple(raw)
            out.append((number, names.setdefault(keys, keys), tuple(raw.values())))
        else:  # readers.RawRow: a row that could not be read cleanly keeps its problems
            out.append((number, None, raw))
    return out


def unpack(packed: Packed) -> Chunk:
    return [(number, raw if keys is None else dict(zip(keys, raw, strict=True)))
            for number, keys, raw in packed]


def _map_in_worker(packed: Packed) -> list[Outcome]:
    return _WORKER[0](unpack(packed))


def chunked(rows: Iterable[tuple[int, dict[str, str]]], size: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """Rows in chunks; when the reader fails part-way, the rows read so far come out first."""
    chunk: Chunk = []
    try:
        for item in rows:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except InputFileError:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


def default_workers() -> int:
    """One worker per CPU: the calling process mostly waits on reading and the database."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def outcomes(rows: Iterable[tuple[int, dict[str, str]]], mapper: RowMapper, *,
             workers: int) -> Iterator[tuple[dict[str, str], Outcome]]:
    """(raw row, outcome) for every row, in file order. ``workers`` <= 1 maps in this process.

    A reader error (``InputFileError``) is raised only after every row read before it has come
    out, so the caller can store them first."""
    if workers <= 1:
        for chunk in chunked(rows):
            yield from zip((raw for _, raw in chunk), mapper(chunk), strict=True)
        return
    # forkserver, not fork: the caller may run threads (progress bars) and hold open databases
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_start_worker, initargs=(mapper, os.getpid())) as pool:
        pending: deque[tuple[Chunk, Future[list[Outcome]]]] = deque()
        try:
            for chunk in chunked(rows):
                pending.append((chunk, pool.submit(_map_in_worker, pack(chunk))))
                if len(pending) >= IN_FLIGHT:  # bounded: memory stays flat on any file size
                    done, future = pending.popleft()
                    yield from zip((raw for _, raw in done), future.result(), strict=True)
        except InputFileError:
            while pending:  # what was read before the reader failed is still handed out
                done, future = pending.popleft()
                yield from zip((raw for _, raw in done), future.result(), strict=True)
            raise
        while pending:
            done, future = pending.popleft()
            yield from zip((raw for _, raw in done), future.result(), strict=True)


def use_workers(requested: int | None, estimated_rows: int | None) -> int:
    """How many workers for a file: ``requested`` when given (0 = one per CPU), else one per CPU
    for big files and none for small ones."""
    if requested is not None:
        return requested if requested > 0 else default_workers()
    if estimated_rows is not None and estimated_rows >= MIN_ROWS_FOR_WORKERS:
        return default_workers()
    return 1
