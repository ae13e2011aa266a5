"""Import one agency file into the case store: read, map, check, store, and account for every row.

The promise to the user: every row read is either accepted (stored, or recognised as already
stored) or rejected with its reasons and raw content, so ``read == accepted + rejected`` always,
and each import has a batch id. The one exception is a row that is no record and holds nothing
(a template's row of field labels, a numbered row left blank: ``Profile.skip_reason``): it is
counted as skipped, with its reason, so then ``read == accepted + rejected + skipped``.
Importing the same file again adds nothing: the store recognises unchanged records, and a reject
already kept for the same file, row and content is not kept twice.

Duplicates inside one file are reported, never dropped in silence: a row whose record id was
already seen in this file is rejected, as "duplicate of row N" when the content is the same and
as a conflict when it differs. Profiles for k-anonymised data without ids (CTDC) skip this,
because there identical rows are different victims.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from ctip.domain.problems import Problem, RejectedRow, SkippedRow
from ctip.domain.records import Perpetrator
from ctip.errors import InputFileError, Phrase
from ctip.ingest.profiles import PROFILE_NAMES, get_profile
from ctip.ingest.profiles.canonical import RECORD_COLUMNS as CANONICAL_COLUMNS  # noqa: F401 - for writers of canonical files (demo data)
from ctip.ingest.readers import read_table, shown
from ctip.services.file_duplicates import AcceptedInFile
from ctip.services.import_pool import RowMapper, outcomes, use_workers
from ctip.settings import Settings
from ctip.storage.victim_rows import PreparedVictim, VictimPreparer

ProgressCallback = Callable[[int, int | None], None]
__all__ = ["PROFILE_NAMES", "ImportReport", "export_rejects", "import_file", "import_path"]


class Store(Protocol):
    """The part of ``storage.repository.CaseStore`` an import uses."""

    def start_batch(
        self, *, source_file: str, file_sha256: str | None, profile: str, agency: str | None,
        owner: str | None = None,
    ) -> str: ...
    def unfinished_batches(self) -> list[tuple[str, str, str | None, Any]]: ...
    def mark_interrupted(self, batch_id: str) -> tuple[int, int]: ...
    preparer: VictimPreparer

    def store_victims(self, batch_id: str, items: list[PreparedVictim]) -> Any: ...
    def add_perpetrators(self, batch_id: str, items: list[Perpetrator]) -> Any: ...
    def add_rejects(self, batch_id: str, rows: list[RejectedRow]) -> int: ...
    def finish_batch(self, batch_id: str, *, read: int, accepted: int, rejected: int) -> None: ...


@dataclass
class ImportReport:
    batch_id: str
    file: str
    profile: str
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0  # rows that are no record and hold nothing (a template's label row, blanks)
    new: int = 0
    unchanged: int = 0
    updated: int = 0
    duplicates: int = 0  # rejected because the same record id came earlier in the file
    rejects_stored: int = 0  # rejects newly kept (0 when the same file was imported before)
    perpetrators_new: int = 0
    perpetrators_unchanged: int = 0
    format: str = ""
    lines: int | None = None  # physical lines of a CSV or JSON Lines file, header included
    encoding: str | None = None
    delimiter: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rejects_sample: list[str] = field(default_factory=list)  # first reasons, for the summary
    skipped_reasons: dict[str, int] = field(default_factory=dict)  # reason -> rows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_facts(path: Path) -> tuple[str, int]:
    """SHA-256 of the file and its number of line breaks (a row estimate for the progress bar)."""
    digest = hashlib.sha256()
    lines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), lines


def import_file(
    store: Store,
    path: str | Path,
    *,
    profile: str = "canonical",
    agency: str | None = None,
    on_progress: ProgressCallback | None = None,
    batch_size: int = Settings.model_fields["batch_size"].default,  # one default: Settings'
    today: date | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import ``path`` with ``profile``; ``InputFileError`` when the file cannot be read at all.

    ``workers``: processes that map and seal rows (0 = one per CPU, 1 = none); by default one per
    CPU for files of at least ``import_pool.MIN_ROWS_FOR_WORKERS`` rows. The result is the same."""
    path = Path(path)
    prof = get_profile(profile)
    started = time.perf_counter()
    table = read_table(path)
    with table:
        check = prof.check_header(
            table.header, source_file=path.name, complete=table.header_is_complete
        )
        sha256, lines = file_facts(path)
        estimate = max(lines - 1, 0) if table.format != "xlsx" else None
        interrupted = interrupted_imports(store)
        batch_id = store.start_batch(
            source_file=path.name, file_sha256=sha256, profile=prof.name, agency=agency,
            owner=OWNER,
        )
        report = ImportReport(
            batch_id,
            path.name,
            prof.name,
            format=table.format,
            encoding=table.encoding,
            delimiter=table.delimiter,
            extra_columns=list(check.extra_columns),
        )
        report.warnings.extend(interrupted)
        if check.extra_columns:
            names = ", ".join(shown(c, 40) for c in check.extra_columns[:20])
            more = len(check.extra_columns) - 20
            report.warnings.append(
                f"columns not used by the {prof.name!r} profile were ignored: {names}"
                + (f" and {more:,} more" if more > 0 else "")
            )
        _run(
            store,
            table,
            prof,
            report,
            agency=agency,
            on_progress=on_progress,
            batch_size=max(1, batch_size),
            estimate=estimate,
            today=today or date.today(),
            workers=use_workers(workers, estimate),
        )
    _reading_notes(report, table)
    if report.read == 0:
        report.warnings.append("the file has a header but no data rows")
    for reason, count in report.skipped_reasons.items():
        report.warnings.append(f"{count:,} row(s) skipped, not rejected: {reason}")
    assert report.read == report.accepted + report.rejected + report.skipped, report
    store.finish_batch(
        batch_id, read=report.read, accepted=report.accepted, rejected=report.rejected
    )
    report.seconds = round(time.perf_counter() - started, 3)
    return report


OWNER = f"{socket.gethostname()}:{os.getpid()}"  # who runs an import: "host:pid"


def _gone(owner: str | None) -> bool:
    """Whether the process that ran an import is gone (only a process on this host can tell;
    a zombie, killed but not yet reaped, counts as gone)."""
    if not owner:
        return False
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[:1] == ["Z"]
    except OSError:
        return False


def interrupted_imports(store: Store) -> list[str]:
    """Mark every import batch whose process died before it finished, and say so (once)."""
    notes = []
    for batch_id, source_file, owner, started in store.unfinished_batches():
        if not _gone(owner):
            continue
        kept, rejected = store.mark_interrupted(batch_id)
        notes.append(
            f"an earlier import of {shown(source_file)} (batch {batch_id}, started "
            f"{started:%Y-%m-%d %H:%M} UTC) was interrupted before it finished: the {kept:,} "
            f"records and {rejected:,} rejects it stored are kept; import that file again to "
            "add the rest"
        )
    return notes


def _reading_notes(report: ImportReport, table: Any) -> None:
    """What the reader saw that the counts alone do not say: physical lines against records,
    records an unbalanced quote made of several rows, over-long lines, formulas."""
    report.lines = table.stats.get("lines")
    folded = table.stats.get("folded", [])
    if folded:
        row, first, last = folded[0]
        report.warnings.append(
            f"an unbalanced quote made {len(folded):,} record(s) out of several rows (first: "
            f"row {row}, lines {first:,}-{last:,}; the file has {report.lines:,} lines for "
            f"{report.read:,} records): they were rejected and the rows inside them were not "
            "imported; close the quote and import the file again"
        )
    if table.stats.get("long_lines"):
        report.warnings.append(
            f"{table.stats['long_lines']:,} line(s) were too long to read and were rejected"
        )
    report.warnings.extend(table.notes)


# (row number, raw row, prepared victim, perpetrators, key hash, 32-bit content hash)
Candidate = tuple[int, dict[str, str], PreparedVictim, tuple[Perpetrator, ...], int, int]


def _run(
    store: Store,
    table: Any,
    prof: Any,
    report: ImportReport,
    *,
    agency: str | None,
    on_progress: ProgressCallback | None,
    batch_size: int,
    estimate: int | None,
    today: date,
    workers: int,
) -> None:
    source_file = report.file
    check_duplicates = not prof.rows_are_distinct
    accepted = AcceptedInFile()  # record ids accepted so far from this file, 16 bytes a row
    # accepted rows of the batch being built, before the duplicate check (done per batch)
    candidates: list[Candidate] = []
    victims: list[PreparedVictim] = []
    rejects: list[RejectedRow] = []
    perpetrators: list[Perpetrator] = []
    mapper = RowMapper(prof.name, source_file, agency, today, report.batch_id, store.preparer)
    number = 0

    def flush() -> None:
        if candidates:
            _settle(accepted, candidates, victims, rejects, perpetrators, report)
        _flush(store, report, victims, rejects, perpetrators)

    try:
        for raw, (number, result, perps) in outcomes(table, mapper, workers=workers):
            report.read += 1
            if isinstance(result, SkippedRow):
                report.skipped += 1
                reasons = report.skipped_reasons
                reasons[result.reason] = reasons.get(result.reason, 0) + 1
            elif not isinstance(result, PreparedVictim):
                rejects.append(result)
            elif check_duplicates:
                candidates.append((number, raw, result, perps,
                                   hash((result.agency, result.source_record_id)),
                                   hash(tuple(raw.values())) & 0xFFFFFFFF))
            else:
                victims.append(result)
                perpetrators.extend(perps)
            if len(candidates) + len(victims) + len(rejects) >= batch_size:
                flush()
                if on_progress is not None:
                    on_progress(report.read, estimate)
    except InputFileError as error:
        flush()
        # the reader's refusal (its template and values, so pages translate it) and what was kept
        raise InputFileError(
            "{error}; the import stopped after row {number} (batch {batch}: {accepted} rows "
            "accepted and {rejected} rejected so far are kept)",
            hint="{hint}; importing the repaired file again adds only what is missing",
            params={"error": Phrase.of(error), "hint": Phrase.of(error, hint=True),
                    "number": number, "batch": report.batch_id,
                    "accepted": report.accepted, "rejected": report.rejected},
        ) from None
    flush()
    if on_progress is not None:
        on_progress(report.read, report.read)


def _settle(
    accepted: AcceptedInFile,
    candidates: list[Candidate],
    victims: list[PreparedVictim],
    rejects: list[RejectedRow],
    perpetrators: list[Perpetrator],
    report: ImportReport,
) -> None:
    """Accept a batch's rows whose record id is new to this file; the others become duplicate
    rejects naming the row the id was first accepted from (earlier batch or this one)."""
    verdicts = accepted.classify([c[4] for c in candidates], [c[0] for c in candidates],
                                 [c[5] for c in candidates])
    for (number, raw, result, perps, _key, content), prior in zip(candidates, verdicts,
                                                                   strict=True):
        if prior is None:
            victims.append(result)
            perpetrators.extend(perps)
        else:
            rejects.append(_duplicate(raw, result.source_record_id, number, prior, content,
                                      report.file))
            report.duplicates += 1
    candidates.clear()
    rejects.sort(key=lambda row: row.source_row)


def _duplicate(
    raw: dict[str, str],
    record_id: str,
    number: int,
    prior: int,
    content: int,
    source_file: str,
) -> RejectedRow:
    first_row, first_content = prior >> 32, prior & 0xFFFFFFFF
    if first_content == content:
        reason = Problem(
            "source_record_id",
            f"duplicate of row {first_row}: the same record appears again "
            "in this file (it was imported once, from that row)",
            record_id,
            "each record once per file",
        )
    else:
        reason = Problem(
            "source_record_id",
            f"the record id was already used at row {first_row} with "
            "different content; this row was not imported",
            record_id,
            "a record id used once per agency and file; send corrections in a later file",
        )
    return RejectedRow(source_file, number, dict(raw), (reason,))


def _flush(
    store: Store,
    report: ImportReport,
    victims: list[PreparedVictim],
    rejects: list[RejectedRow],
    perpetrators: list[Perpetrator],
) -> None:
    if victims:
        result = store.store_victims(report.batch_id, victims)
        report.accepted += len(victims)
        report.new += result.new
        report.unchanged += result.unchanged
        report.updated += result.updated
        assert result.new + result.unchanged + result.updated == len(victims), result
        victims.clear()
    if perpetrators:
        result = store.add_perpetrators(report.batch_id, perpetrators)
        report.perpetrators_new += result.new
        report.perpetrators_unchanged += result.unchanged
        perpetrators.clear()
    if rejects:
        report.rejects_stored += store.add_rejects(report.batch_id, rejects)
        report.rejected += len(rejects)
        for row in rejects:
            if len(report.rejects_sample) >= 20:
                break
            report.rejects_sample.append("; ".join(row.reasons()))
        rejects.clear()


# --- use cases for the adapters (CLI, web): open the store, run, close ---------------------------


def import_path(
    settings: Any,
    path: str | Path,
    *,
    profile: str = "canonical",
    agency: str | None = None,
    actor: str = "system",
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Open the case store named by ``settings`` and import one file into it."""
    from ctip.storage.repository import CaseStore

    path = Path(path)
    read_table(path).close()  # an unreadable file fails before the store is touched
    with CaseStore.open(settings, actor=actor) as store:
        return import_file(
            store,
            path,
            profile=profile,
            agency=agency,
            on_progress=on_progress,
            batch_size=settings.batch_size,
            workers=settings.import_workers,
        )


REJECT_EXPORT_COLUMNS = ("batch_id", "source_file", "source_row", "columns", "reasons", "raw")
RAW_WITHHELD = "[raw content withheld: export with --with-identity to include it]"


def export_rejects(
    settings: Any,
    out: str | Path,
    *,
    batch_id: str | None = None,
    actor: str = "system",
    include_identity: bool = False,
    reason: str | None = None,
) -> int:
    """Write the kept rejects to CSV or XLSX (created 0600); returns the number written.

    A reject's raw content is identity by default: a row that could not be split (a broken
    JSON line, an unbalanced quote that folded later lines into one cell) or whose columns are
    shifted holds names in any column. So without ``include_identity`` no raw content leaves
    the store, neither the raw row nor the values quoted in the reasons: each reject is written
    as its file, row, the columns at fault and the reasons without values. With
    ``include_identity`` (a stated ``reason`` is required) the raw rows and full reasons are
    written, and the audit entry says so. Every cell goes through the formula-injection guard.
    """
    import json

    from ctip.errors import PermissionDeniedError
    from ctip.ingest.writers import write_csv, write_xlsx
    from ctip.storage.repository import CaseStore

    if include_identity and not (reason and reason.strip()):
        raise PermissionDeniedError(
            "Exporting rejects with their raw content (identity) needs a stated reason.",
            hint="give --reason (it is written to the audit log; do not name the person)",
        )
    out = Path(out)
    details = {"export": out.name, "with_identity": include_identity}
    if include_identity:
        details["reason"] = str(reason).strip()

    def rows(store: Any) -> Any:
        for reject in store.rejects(batch_id, details=details):
            columns = ", ".join(sorted({p.column for p in reject.problems if p.column}))
            if include_identity:
                reasons, raw = reject.reasons, json.dumps(reject.raw, ensure_ascii=False)
            else:
                reasons = [
                    p.describe(reject.source_file, reject.source_row, show_value=False)
                    for p in reject.problems
                ]
                raw = RAW_WITHHELD
            yield (
                reject.batch_id,
                reject.source_file,
                reject.source_row,
                columns,
                " | ".join(reasons),
                raw,
            )

    with CaseStore.open(settings, actor=actor) as store:
        if out.suffix.lower() == ".xlsx":
            counted: list[int] = []

            def counting(store: Any) -> Any:
                for row in rows(store):
                    counted.append(1)
                    yield row

            write_xlsx(out, {"rejects": (REJECT_EXPORT_COLUMNS, counting(store))}, private=True)
            return len(counted)
        return write_csv(out, REJECT_EXPORT_COLUMNS, rows(store), private=True)


def stored_rejects(settings: Any, *, actor: str) -> list[Any]:
    """Every kept reject with its reasons and raw row (reading them is audited as ``actor``)."""
    from ctip.storage.repository import CaseStore

    with CaseStore.open(settings, actor=actor) as store:
        return list(store.rejects())
