"""Exchange payloads beyond case records (issue 17 item 1): investigation findings as
FollowTheMoney entities, statistics as the SDMX-CSV ``ctip publish`` writes, evidence items with
their custody excerpt. Each has its purpose profile (``investigation``, ``statistics``,
``mla-evidence``); the files go through ``Exchange.send_files``, whose gate is the receiver's
(``ctip.exchange.payloads.check_payload``), so an out-of-profile field is refused at both ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ctip.domain.access import Action, Principal, require_role
from ctip.errors import EvidenceError, ExchangeError, NotFoundError
from ctip.exchange import package as pk
from ctip.exchange import payloads as pl
from ctip.exchange import profiles as pr
from ctip.finflows.ftm import to_lines, validate
from ctip.services.evidence import Locker
from ctip.services.exchange import Sent
from ctip.services.exchange_referrals import ExchangeReferrals
from ctip.storage import exchange as xdb

_ITEM_FIELDS = ("sha256", "size", "mime", "kind", "acquired_at")


class ExchangePayloads(ExchangeReferrals):
    """Exchange with referrals and the FtM, SDMX and evidence payloads."""

    def send_findings(self, p: Principal, *, to: Sequence[str],
                      entities: Sequence[Mapping[str, Any]], legal_basis: str = "statute",
                      grade: str | None = None) -> Sent:
        """FtM entity dicts (``finflows`` alerts, ``supply`` risks) as one NDJSON file, profile
        ``investigation``; a stream followthemoney finds invalid is not sent."""
        require_role(p, Action.CASE_REFER)
        items = [dict(e) for e in entities]
        problems = validate(items)
        if problems:
            raise ExchangeError(f"The FtM stream is not valid: {problems[0]} "
                                f"({len(problems)} problem(s)); nothing was sent.",
                                reason="malformed")
        data = to_lines(items).encode("utf-8")
        return self.send_files(p, to=to, profile_id="investigation", legal_basis=legal_basis,
                               grade=grade, files=[pk.PayloadFile(pl.FTM, pl.media_type(pl.FTM),
                                                                  data, len(items))])

    def send_statistics(self, p: Principal, *, to: Sequence[str], sdmx_csv: bytes,
                        legal_basis: str = "statistics-law") -> Sent:
        """The SDMX-CSV file ``ctip publish`` wrote (after disclosure control), as it is,
        profile ``statistics``."""
        require_role(p, Action.CASE_REFER)
        return self.send_files(p, to=to, profile_id="statistics", legal_basis=legal_basis,
                               files=[pk.PayloadFile(pl.SDMX, pl.media_type(pl.SDMX), sdmx_csv)])

    def send_evidence(self, p: Principal, locker: Locker, case_id: str, *, to: Sequence[str],
                      items: Sequence[str], purpose: str = "prosecution",
                      legal_basis: str = "mla-request", note: str | None = None) -> Sent:
        """Evidence items (by hash or prefix) of a locker case with their custody excerpt (the
        events about those items, with their hashes), profile ``mla-evidence``. The hand-over
        is an ``export`` event in the case's custody log before any byte leaves."""
        if not items:
            raise EvidenceError("name the items to send", hint="`ctip evidence log CASE`")
        with locker.engine.begin() as conn:
            locker.check_access(conn, p, case_id, Action.EVIDENCE_EXPORT)
            rows = [locker.item_row(conn, case_id, h) for h in items]
            held = [r for r in rows if r.status == "held"]
            if len(held) != len(rows) or len({r.sha256 for r in rows}) != len(rows):
                raise EvidenceError("every item sent must be held, and named once")
            key = locker.case_key(conn, case_id, create=False)
            locker.record_event(conn, p, case_id, "export", item=None, purpose=purpose,
                                note=note, details={"items": [r.sha256 for r in rows],
                                                    "exchange_to": list(to)})
        shas = {r.sha256 for r in rows}
        records, files = [], []
        for r in rows:
            data = b"".join(locker.blobs.read(case_id, key, r.sha256))
            view = locker.item_view(r)
            record = {f: getattr(view, f) for f in _ITEM_FIELDS}
            record["acquired_at"] = view.acquired_at.isoformat()
            record["file"] = pl.item_path(r.sha256)
            records.append(record)
            files.append(pk.PayloadFile(record["file"], "application/octet-stream", data))
        events = [e for e in locker.custody(p, case_id) if e.get("item") in shas]
        files += [pk.PayloadFile(pl.EVIDENCE, pl.media_type(pl.EVIDENCE), pk.jsonl(records),
                                 len(records)),
                  pk.PayloadFile(pl.CUSTODY, pl.media_type(pl.CUSTODY), pk.jsonl(events),
                                 len(events))]
        sent = self.send_files(p, to=to, profile_id="mla-evidence", legal_basis=legal_basis,
                               files=files)
        with self.engine.begin() as conn:
            self._audit(conn, p, "exchange.evidence_sent", case_id, package_id=sent.package_id,
                        items=sorted(shas), to=list(to))
        return sent

    def received_records(self, p: Principal, package_id: str) -> dict[str, list[dict[str, Any]]]:
        """The records of every payload file of a received package (FtM entities, SDMX rows,
        evidence items and custody events), read and audited; item bytes via ``open_files``."""
        with self.engine.begin() as conn:
            row = xdb.get_package(conn, package_id, "in")
        if row is None:
            raise NotFoundError(f"No received package {package_id}.")
        prof = pr.profile(row.profile)
        return {path: pl.records(prof, path, data)
                for path, data in self.open_files(p, package_id).items()
                if not pl.ITEM.match(path)}
