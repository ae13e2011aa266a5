"""Use cases for consent, referrals, services given and the service directory (part of
``Casework``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ctip.domain import nrm
from ctip.domain.access import (
    SHAREABLE_IDENTITY_FIELDS,
    Action,
    Principal,
    Relation,
    Role,
    require_role,
)
from ctip.domain.casework import (
    CONSENT_PURPOSES,
    SERVICE_TYPES,
    Case,
    ConsentRecord,
    Referral,
    Service,
    ServiceEntry,
)
from ctip.errors import (
    Code,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from ctip.services.casework_core import (
    DEFAULT_REFERRAL_DAYS,
    PURPOSE_CONSENT,
    CaseworkCore,
    _id,
    _valid_id,
)
from ctip.storage import casework as db
from ctip.storage import casework_sealing as sdb
from ctip.storage import referrals as rdb

if TYPE_CHECKING:
    import sqlalchemy as sa


@dataclasses.dataclass(frozen=True)
class SentReferrals:
    """A page of an agency's sent referrals (``ReferralWork.sent_referrals``)."""

    referrals: list[Referral]  # newest first
    counts: dict[str, int]  # status -> how many the agency sent, all pages together
    numbers: dict[str, str]  # case id -> readable case number, for the cases shown
    more: bool  # another page follows


class ReferralWork(CaseworkCore):
    """Consent ledger, referrals (with purpose-limited sharing) and services."""

    # ---- consent ----

    def record_consent(
        self,
        p: Principal,
        case_id: str,
        *,
        purpose: str,
        recipient: str | None = None,
        given_by: str = "person",
        text_version: str = "1",
    ) -> ConsentRecord:
        """Add one consent to the ledger (per purpose, optionally per recipient agency)."""
        if purpose not in CONSENT_PURPOSES:
            raise ValidationError(
                "consent purpose not recognised",
                column="purpose",
                value=purpose,
                allowed=", ".join(CONSENT_PURPOSES),
            )
        if given_by not in ("person", "guardian"):
            raise ValidationError(
                "consent is given by the person or their guardian",
                column="given_by",
                value=given_by,
                allowed="person, guardian",
            )
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.CONSENT_RECORD)
            record = ConsentRecord(
                _id(), case_id, purpose, recipient, self.clock(), p.user_id, text_version, given_by
            )
            rdb.insert_consent(conn, record)
            self._audit(
                conn,
                p,
                "consent.give",
                case_id,
                consent_id=record.consent_id,
                purpose=purpose,
                recipient=recipient,
            )
            return record

    def revoke_consent(self, p: Principal, case_id: str, consent_id: str) -> None:
        """Revoke a consent; live referrals that relied on it are revoked too (stop sharing)."""
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.CONSENT_RECORD)
            if rdb.revoke_consent(conn, case_id, consent_id, by=p.user_id) != 1:
                raise NotFoundError("no live consent {consent} on this case",
                                    params={"consent": repr(consent_id)})
            self._revoke_live_referrals(conn, p, case_id, relying_on=consent_id)
            self._audit(conn, p, "consent.revoke", case_id, consent_id=consent_id)

    def consents(self, p: Principal, case_id: str) -> list[ConsentRecord]:
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.CONSENT_RECORD)
            return rdb.case_consents(conn, case_id)

    # ---- referrals ----

    def refer(
        self,
        p: Principal,
        case_id: str,
        *,
        to_agency: str,
        purpose: str = "service",
        shared_fields: Iterable[str] = (),
        service_id: str | None = None,
        due_date: date | None = None,
        consent_id: str | None = None,
        consent_override: str | None = None,
    ) -> Referral:
        """Refer a case to another agency, sharing only ``shared_fields`` of the identity.

        An adult needs a live consent for the referral's purpose covering the recipient (I2); a
        child is referred without consent (I3). Without consent, a supervisor may override with
        a written justification (at least 20 characters): a break-glass event, audited, with a
        review task for the agency's supervisors.
        """
        if purpose not in PURPOSE_CONSENT:
            raise ValidationError(
                "referral purpose not recognised",
                column="purpose",
                value=purpose,
                allowed=", ".join(PURPOSE_CONSENT),
            )
        shared = frozenset(shared_fields)
        bad = shared - set(SHAREABLE_IDENTITY_FIELDS)
        if bad:
            raise ValidationError(
                "these fields cannot be shared",
                column="shared_fields",
                value=", ".join(sorted(bad)),
                allowed=", ".join(SHAREABLE_IDENTITY_FIELDS),
            )
        with self._tx() as conn:
            row, _, _ = self._load(conn, p, case_id, Action.CASE_REFER)
            case = db.case_from_row(row)
            if not to_agency.strip() or to_agency == case.agency:
                raise ValidationError(
                    "refer to another agency", column="to_agency", value=to_agency
                )
            if not rdb.in_directory(conn, to_agency):
                raise _not_in_directory(to_agency, rdb.directory_agencies(conn))
            if case.status in nrm.FINAL_STATES:
                raise WorkflowError(
                    "a case in state {status} cannot be referred", hint="reopen it first",
                    params={"status": Code("status", case.status, quoted=False)},
                )
            if service_id is not None:
                service = rdb.get_service(conn, service_id)
                if service is None or service.agency != to_agency:
                    raise ValidationError(
                        "the service is not in the directory for that agency",
                        column="service_id",
                        value=service_id,
                    )
            needed = PURPOSE_CONSENT[purpose]
            if not case.is_child:
                live = [
                    c
                    for c in rdb.case_consents(conn, case_id)
                    if c.live and c.purpose == needed and c.recipient in (None, to_agency)
                ]
                if consent_id is not None:
                    live = [c for c in live if c.consent_id == consent_id]
                if not live and consent_override is not None:
                    self._override(conn, p, case, consent_override, to_agency)
                elif not live:
                    raise WorkflowError(
                        "an adult's referral needs their consent for {purpose} covering "
                        "{agency}",
                        hint="record the person's consent first (children are referred "
                        "without consent); in an emergency a supervisor may override it "
                        "with a justification",
                        params={"purpose": Code("purpose", needed), "agency": repr(to_agency)},
                    )
                consent_id = live[-1].consent_id if live else None
            at = self.clock()
            ref = Referral(
                _id(),
                case_id,
                case.agency,
                to_agency,
                purpose,
                shared,
                "pending",
                service_id,
                consent_id,
                due_date or (at.date() + timedelta(days=DEFAULT_REFERRAL_DAYS)),
                at,
                p.user_id,
            )
            rdb.insert_referral(conn, ref)
            self._audit(
                conn,
                p,
                "referral.create",
                case_id,
                referral_id=ref.referral_id,
                to=to_agency,
                purpose=purpose,
                shared_fields=sorted(shared),
                consent_id=consent_id,
            )
            return ref

    def _override(
        self, conn: sa.Connection, p: Principal, case: Case, justification: str, to_agency: str
    ) -> None:
        """Consent override as break-glass (CASE-MANAGEMENT.md 7.3): supervisors only, justified."""
        if p.role is not Role.SUPERVISOR:
            raise PermissionDeniedError(
                "only a supervisor may refer an adult without their consent",
                hint="record the person's consent, or ask a supervisor",
            )
        if len(justification.strip()) < 20:
            raise ValidationError(
                "a consent override needs a justification of at least 20 characters",
                column="consent_override",
            )
        self._task(conn, case, "review_consent_override", 1, detail=f"to {to_agency}"[:300])
        self._audit(
            conn,
            p,
            "consent.override",
            case.case_id,
            to=to_agency,
            reason_id=self._access_reason(conn, case.case_id, "consent.override", justification),
        )

    def _respond(
        self,
        p: Principal,
        referral_id: str,
        status: str,
        expected: tuple[str, ...],
        reason: str | None = None,
        *,
        owner_side: bool = False,
    ) -> Referral:
        with self._tx() as conn:
            ref = rdb.get_referral(conn, referral_id) if _valid_id(referral_id) else None
            if ref is None:
                require_role(p, Action.CASE_REFER if owner_side else Action.REFERRAL_RESPOND)
                raise NotFoundError("no referral {referral} is visible to you",
                                    params={"referral": repr(referral_id)})
            action = Action.CASE_REFER if owner_side else Action.REFERRAL_RESPOND
            require_role(p, action)
            party = ref.from_agency if owner_side else ref.to_agency
            if p.agency != party:
                raise NotFoundError("no referral {referral} is visible to you",
                                    params={"referral": repr(referral_id)})
            rid = sdb.referral_reason_context(referral_id)
            if not rdb.set_referral_status(
                conn,
                referral_id,
                expected=expected,
                status=status,
                by=p.user_id,
                reason_sealed=self._seal(reason, rid),
            ):
                raise WorkflowError(
                    "the referral is {status}: it cannot become {wanted}",
                    hint="reload the referral to see who answered it",
                    params={"status": Code("referral_status", ref.status, quoted=False),
                            "wanted": Code("referral_status", status, quoted=False)},
                )
            self._audit(conn, p, f"referral.{status}", ref.case_id, referral_id=referral_id)
            return rdb.get_referral(conn, referral_id)  # type: ignore[return-value]

    def accept_referral(self, p: Principal, referral_id: str) -> Referral:
        """The receiving agency takes the referral on."""
        return self._respond(p, referral_id, "accepted", ("pending",))

    def decline_referral(self, p: Principal, referral_id: str, *, reason: str) -> Referral:
        """The receiving agency declines, saying why (sealed: reasons can name people)."""
        if not reason.strip():
            raise ValidationError("say why the referral is declined", column="reason")
        return self._respond(p, referral_id, "declined", ("pending",), reason)

    def complete_referral(self, p: Principal, referral_id: str) -> Referral:
        """The receiving agency has given the service; its access ends with the referral."""
        return self._respond(p, referral_id, "completed", ("accepted",))

    def revoke_referral(self, p: Principal, referral_id: str) -> Referral:
        """The referring agency withdraws the referral; the recipient loses access at once."""
        return self._respond(p, referral_id, "revoked", ("pending", "accepted"), owner_side=True)

    def referrals(
        self, p: Principal, *, incoming: bool = True, overdue_only: bool = False
    ) -> list[Referral]:
        """The agency's incoming (or outgoing) referrals; ``overdue_only`` lists pending ones past
        due."""
        require_role(p, Action.REFERRAL_RESPOND if incoming else Action.CASE_REFER)
        with self._tx() as conn:
            return rdb.agency_referrals(
                conn,
                p.agency,
                incoming=incoming,
                overdue_on=self.clock().date() if overdue_only else None,
            )

    def sent_referrals(
        self, p: Principal, *, statuses: Iterable[str] | None = None, limit: int = 50,
        offset: int = 0,
    ) -> SentReferrals:
        """One page of the agency's sent referrals (with one of ``statuses``), newest first,
        with the count of all of them by status and the readable numbers of the cases shown;
        one transaction. A page, not every referral ever sent: the list stays the same size
        however many years of referrals an agency has."""
        require_role(p, Action.CASE_REFER)
        with self._tx() as conn:
            found = rdb.sent_referrals(conn, p.agency, statuses=statuses, limit=limit + 1,
                                       offset=offset)
            shown = found[:limit]
            return SentReferrals(
                referrals=shown,
                counts=rdb.referral_counts(conn, p.agency, incoming=False),
                numbers=db.case_numbers(conn, p.agency, [r.case_id for r in shown]),
                more=len(found) > limit,
            )

    def case_referrals(self, p: Principal, case_id: str) -> list[Referral]:
        """Referrals of a case: all for the owner, only its own for a receiving agency."""
        with self._tx() as conn:
            _, rel, _ = self._load(conn, p, case_id, Action.CASE_READ)
            return self._case_referrals(conn, p, case_id, rel)

    def _case_referrals(
        self, conn: sa.Connection, p: Principal, case_id: str, rel: Relation
    ) -> list[Referral]:
        """``case_referrals`` once access is checked (CASE_READ gave ``rel``)."""
        refs = rdb.case_referrals(conn, case_id)
        return refs if rel is Relation.OWNER else [r for r in refs if r.to_agency == p.agency]

    # ---- services ----

    def record_service(
        self,
        p: Principal,
        case_id: str,
        *,
        service_type: str,
        given_on: date | None = None,
        referral_id: str | None = None,
        note: str | None = None,
    ) -> ServiceEntry:
        """Log a service given (owner, or a receiving agency on its accepted referral)."""
        if service_type not in SERVICE_TYPES:
            raise ValidationError(
                "service type not recognised",
                column="service_type",
                value=service_type,
                allowed=", ".join(SERVICE_TYPES),
            )
        with self._tx() as conn:
            _, rel, _ = self._load(conn, p, case_id, Action.SERVICE_RECORD)
            if rel is Relation.RECIPIENT:
                mine = [
                    r
                    for r in rdb.case_referrals(conn, case_id)
                    if r.to_agency == p.agency and r.status == "accepted"
                ]
                if not mine:
                    raise WorkflowError("accept the referral before recording services on it")
                if referral_id is not None and referral_id not in {r.referral_id for r in mine}:
                    raise _no_such_referral(referral_id)  # another case's, or not yours
                referral_id = referral_id or mine[-1].referral_id
            elif referral_id is not None and referral_id not in {
                r.referral_id for r in rdb.case_referrals(conn, case_id)
            }:
                raise _no_such_referral(referral_id)  # the owner names one of this case's
            entry = ServiceEntry(
                _id(),
                case_id,
                p.agency,
                service_type,
                given_on or self.clock().date(),
                p.user_id,
                referral_id,
                note,
            )
            rdb.insert_service_given(
                conn,
                entry,
                note_sealed=self._seal(note, sdb.service_note_context(entry.entry_id)),
            )
            self._audit(
                conn,
                p,
                "service.record",
                case_id,
                entry_id=entry.entry_id,
                service_type=service_type,
            )
            return entry

    def services_given(self, p: Principal, case_id: str) -> list[ServiceEntry]:
        with self._tx() as conn:
            _, rel, _ = self._load(conn, p, case_id, Action.CASE_READ)
            return self._services_given(conn, p, case_id, rel)

    def _services_given(
        self, conn: sa.Connection, p: Principal, case_id: str, rel: Relation
    ) -> list[ServiceEntry]:
        """``services_given`` once access is checked (CASE_READ gave ``rel``)."""
        rows = rdb.case_services_given(conn, case_id, None if rel is Relation.OWNER else p.agency)
        return [
            ServiceEntry(
                r.entry_id,
                r.case_id,
                r.agency,
                r.service_type,
                r.given_on,
                r.recorded_by,
                r.referral_id,
                self._open(r.note_sealed, sdb.service_note_context(r.entry_id)),
            )
            for r in rows
        ]

    def add_service(self, p: Principal, service: Service) -> Service:
        """Add an entry to the service directory (admins, supervisors)."""
        require_role(p, Action.DIRECTORY_MANAGE)
        if service.service_type not in SERVICE_TYPES:
            raise ValidationError(
                "service type not recognised",
                column="service_type",
                value=service.service_type,
                allowed=", ".join(SERVICE_TYPES),
            )
        if not service.name.strip() or not service.agency.strip():
            raise ValidationError("a service needs a name and an agency", column="name")
        service = dataclasses.replace(service, service_id=service.service_id or _id())
        with self._tx() as conn:
            rdb.insert_service(conn, service)
            self._audit(conn, p, "directory.add", service.service_id, agency=service.agency)
        return service

    def find_services(
        self,
        p: Principal,
        *,
        service_type: str | None = None,
        location: str | None = None,
        sex: str | None = None,
        age: int | None = None,
        language: str | None = None,
        eligible_only: bool = False,
    ) -> list[Service]:
        """The service directory, optionally only services whose eligibility fits the person."""
        require_role(p, Action.DIRECTORY_READ)
        with self._tx() as conn:
            found = rdb.list_services(conn, service_type=service_type, location=location)
        if eligible_only:
            found = [s for s in found if s.eligible(sex=sex, age=age, language=language)]
        return found


def _not_in_directory(agency: str, known: list[str]) -> ValidationError:
    """A receiving agency must be one the service directory lists: a typed name that matches
    none (a typo, a stray space) would send the referral to nobody."""
    shown = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    return ValidationError(
        "the receiving agency is not in the service directory",
        column="to_agency",
        value=agency,
        allowed=shown or "none yet (the directory is empty)",
        hint="choose an agency exactly as the service directory names it; an administrator or "
        "supervisor adds a missing agency's services to the directory",
    )


def _no_such_referral(referral_id: str) -> ValidationError:
    """A service is logged against a referral of *this* case only: another case's referral id
    (or, for a receiving agency, one not sent to it) is refused, saying no more than that."""
    return ValidationError(
        "no such referral on this case",
        column="referral_id",
        value=referral_id,
        hint="leave it out (a receiving agency's service goes on its accepted referral), or "
        "give a referral of this case",
    )
