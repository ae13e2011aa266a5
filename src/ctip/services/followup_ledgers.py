"""Use cases: the ratification tracker (load treaty status, gaps, cross-check), pledge ledger.

Files are read here (the parsing is pure, in ``followup.treaties``). Read = accepted + rejected
for every load, and each rejected row keeps its reason. Loads and pledges are audited.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ctip.domain.access import Action, Principal, require_role
from ctip.errors import InputFileError, NotFoundError
from ctip.errors import ValidationError as Invalid
from ctip.followup import pledges as ledger
from ctip.followup import treaties
from ctip.ingest.readers import read_table
from ctip.services.followup import FollowUp, _actor
from ctip.storage import followup_ledgers as db

GSI_FLAGS_FOLDER = "treaty-status-gsi-2022"
GSI_FLAGS_FILE = "gsi2023_treaty_ratification_flags.csv"
GSI_SOURCE = "Walk Free GSI 2023 flags (as of 2022-08-31)"
UNTC_HEADERS = {"participant": ("participant",), "signature": ("signature",),
                "consent": ("ratification", "accession", "consent")}


@dataclass
class Loaded:
    source: str
    read: int = 0
    accepted: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _cells(path: Path) -> list[list[str]]:
    """Every row of the file's first sheet or table as cells, header row included (the UNTC page
    saved as it is shown may have a title line above the header)."""
    with read_table(path) as table:
        rows = [list(table.header)]
        rows += [list(values.values()) for _number, values in table.rows]
    return rows


def untc_rows(path: Path) -> list[dict[str, str]]:
    """The status table's rows under its header row (the one that starts with Participant)."""
    table = _cells(path)
    for index, row in enumerate(table):
        lowered = [str(c).strip().lower() for c in row]
        if lowered and lowered[0].startswith("participant"):
            columns: dict[str, int] = {}
            for key, words in UNTC_HEADERS.items():
                for position, name in enumerate(lowered):
                    if any(name.startswith(w) for w in words):
                        columns.setdefault(key, position)
            if set(columns) != set(UNTC_HEADERS):
                break
            return [{k: (str(r[i]) if i < len(r) and r[i] is not None else "")
                     for k, i in columns.items()}
                    for r in table[index + 1:] if any(str(c or "").strip() for c in r)]
    raise InputFileError("file {path}: no header row with Participant, Signature and "
                         "Ratification/Accession columns",
                         hint="save the UN Treaty Collection status table as it is shown",
                         params={"path": path})


class Ledgers:
    def __init__(self, followup: FollowUp) -> None:
        self.f = followup

    def load_gsi_flags(self, p: Principal, path: Path) -> Loaded:
        require_role(p, Action.FOLLOWUP_EDIT)
        if path.is_dir():
            path = path / GSI_FLAGS_FILE
        if not path.is_file():
            raise InputFileError("{path} not found",
                                 hint="give the {folder} folder or its CSV file",
                                 params={"path": path, "folder": GSI_FLAGS_FOLDER})
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "iso3" not in rows[0]:
            raise InputFileError("file {path}: no iso3 column", hint="use the file unchanged",
                                 params={"path": path})
        statuses = treaties.from_gsi_flags(rows, source=GSI_SOURCE)
        return self._store(p, statuses, GSI_SOURCE, read=len(rows), rejected=[])

    def load_untc(self, p: Principal, path: Path, *, treaty: str, as_of: date) -> Loaded:
        require_role(p, Action.FOLLOWUP_EDIT)
        if treaty not in treaties.TREATIES:
            raise Invalid("unknown treaty code", column="--treaty", value=treaty,
                          allowed=", ".join(treaties.TREATIES))
        rows = untc_rows(path)
        source = f"UNTC {treaty} ({path.name}, {as_of.isoformat()})"
        statuses, rejected = treaties.from_untc(rows, treaty, source=source,
                                                as_of=as_of.isoformat(), file=path.name)
        return self._store(p, statuses, source, read=len(rows), rejected=rejected)

    def _store(self, p: Principal, statuses: list[treaties.TreatyStatus], source: str, *,
               read: int, rejected: list[tuple[int, str]]) -> Loaded:
        rows = [{k: v for k, v in s.as_dict().items() if k != "source"} for s in statuses]
        with self.f.engine.begin() as conn:
            n = db.replace_treaty_rows(conn, rows, source=source,
                                       treaties={s.treaty for s in statuses}, by=_actor(p),
                                       at=self.f.clock())
            self.f.audit.append(conn, actor=_actor(p), action="followup.treaties.load",
                                subject=source, details={"read": read, "rows": n,
                                                         "rejected": len(rejected)})
        accepted = read - len(rejected)
        return Loaded(source, read=read, accepted=accepted, rejected=rejected)

    def statuses(self, p: Principal, treaty: str | None = None,
                 source: str | None = None) -> list[treaties.TreatyStatus]:
        require_role(p, Action.FOLLOWUP_READ)
        with self.f.engine.connect() as conn:
            rows = db.treaty_rows(conn, treaty, source)
        return [treaties.TreatyStatus(**{k: v for k, v in r.items()
                                         if k not in ("loaded_by", "loaded_at")}) for r in rows]

    def cross_check(self, p: Principal, treaty: str = "XVIII-12-a") -> dict[str, Any]:
        rows = self.statuses(p, treaty)
        gsi = [s for s in rows if s.source == GSI_SOURCE]
        untc = [s for s in rows if s.source.startswith("UNTC ")]
        if not gsi or not untc:
            raise NotFoundError("the cross-check needs both the GSI 2022 flags and a UNTC table "
                                "for {treaty}",
                                hint="load them with `ctip followup treaties load`",
                                params={"treaty": treaty})
        return treaties.cross_check(untc, gsi, treaty)

    # ---- pledges --------------------------------------------------------------------------
    def add_pledge(self, p: Principal, *, donor: str, donor_type: str, pledged_on: date,
                   currency: str, amount: float, paid: float = 0.0, paid_on: date | None = None,
                   source_doc: str, fund: str = "UNVTF") -> str:
        require_role(p, Action.FOLLOWUP_EDIT)
        if donor_type not in ledger.DONOR_TYPES:
            raise Invalid("unknown donor type", column="donor_type", value=donor_type,
                          allowed=", ".join(ledger.DONOR_TYPES))
        if len(currency) != 3 or not currency.isalpha():
            raise Invalid("a currency is a 3-letter ISO 4217 code", column="currency",
                          value=currency)
        if amount <= 0 or paid < 0:
            raise Invalid("amounts must be positive", column="amount", value=amount)
        if not source_doc.strip():
            raise Invalid("name the source document (pledge letter, receipt)", column="source")
        with self.f.engine.begin() as conn:
            pledge_id = db.add_pledge(
                conn, donor=donor.strip(), donor_type=donor_type, fund=fund,
                pledged_on=pledged_on.isoformat(), currency=currency.upper(),
                amount_pledged=round(amount * 100), amount_paid=round(paid * 100),
                paid_on=paid_on.isoformat() if paid_on else "", source_doc=source_doc.strip(),
                entered_by=_actor(p), entered_at=self.f.clock())
            self.f.audit.append(conn, actor=_actor(p), action="followup.pledge.add",
                                subject=pledge_id, details={"donor": donor, "fund": fund})
        return pledge_id

    def pledges(self, p: Principal, donor: str | None = None) -> list[ledger.Pledge]:
        require_role(p, Action.FOLLOWUP_READ)
        with self.f.engine.connect() as conn:
            rows = db.pledges(conn, donor)
        keep = ledger.Pledge.__dataclass_fields__
        return [ledger.Pledge(**{k: v for k, v in r.items() if k in keep}) for r in rows]

    def pledge_indicators(self, p: Principal, *, donor: str | None = None,
                          period_start: str = "", period_end: str = "9999-12-31"
                          ) -> dict[str, Any]:
        return ledger.indicators(self.pledges(p, donor), donor=donor,
                                 period_start=period_start, period_end=period_end)
