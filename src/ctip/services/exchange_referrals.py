"""Transnational referral between ctip instances (issue 17 item 4).

The referring agency picks a case, a purpose profile and the fields to share. ctip reads the
case and opens only the identity fields named (an audited reveal, through ``Casework``), checks
the survivor's live consent for the profile's purpose covering the recipient (children are
referred without it, as inside one instance), and sends a package of one record holding only
those fields. At the receiver the package becomes a referral in the inbox; its fields are read
from the encrypted payload, audited. The answer (accepted, declined, completed, with an outcome
code) travels back as a package of profile ``referral-response`` and updates the sender's record
of the referral. A recall of the package shreds the payload and marks the referral recalled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ctip.domain.access import Action, Principal, require_role
from ctip.domain.records import IDENTITY_FIELDS
from ctip.errors import ExchangeError, NotFoundError, ValidationError, WorkflowError
from ctip.exchange import profiles as pr
from ctip.exchange.verify import Verified
from ctip.services.exchange import CASES, Exchange, Sent, new_id
from ctip.storage import exchange as xdb

REFERRAL_PROFILES = ("referral-services", "cross-border-return", "nrm-decision")
ANSWERS = ("accepted", "declined", "completed")
OUTCOMES = ("assisted", "returned", "no-contact", "not-eligible", "transferred", "other")
_CASE_FIELDS = {"sex": "sex", "age": "age", "is_child": "is_child", "nationality": "nationality",
                "languages": "languages", "interpreter_needed": "interpreter_needed",
                "exploitation_forms": "exploitation_forms", "status": "status"}


class ExchangeReferrals(Exchange):
    """Exchange with the referral inbox (the adapters use this class)."""

    def refer_abroad(self, p: Principal, case_id: str, *, to_agency: str, profile_id: str,
                     fields: Sequence[str], needs: Sequence[str] = (),
                     legal_basis: str | None = None) -> Sent:
        require_role(p, Action.CASE_REFER)
        if profile_id not in REFERRAL_PROFILES:
            raise ValidationError("not a referral profile", column="profile", value=profile_id,
                                  allowed=", ".join(REFERRAL_PROFILES))
        prof = pr.profile(profile_id)
        wanted = list(dict.fromkeys(fields))
        outside = [f for f in wanted if f not in prof.allow and not (
            f == "age" and "age_band" in prof.allow)]
        if outside:
            raise ExchangeError(f"Field {outside[0]!r} is outside the purpose profile "
                                f"{profile_id!r}; nothing was sent.", reason="out-of-profile",
                                hint="profile allows: " + ", ".join(prof.allow))
        view = self.casework.get_case(p, case_id)
        basis = legal_basis or prof.legal_bases[0]
        consent_refs = self._consent(p, case_id, view.data, prof, to_agency, basis)
        record: dict[str, Any] = {"ref": new_id()}
        for name in wanted:
            if name in _CASE_FIELDS and name in view.data:
                value = view.data[name]
                record[name] = list(value) if isinstance(value, tuple) else value
        created = str(view.data.get("created_at") or "")
        if "identified_month" in wanted or "identified_on" in wanted:
            key = "identified_month" if "identified_month" in wanted else "identified_on"
            record[key] = created[:10] or None
        if needs and "needs" in wanted:
            record["needs"] = list(needs)
        identity = [f for f in wanted if f in IDENTITY_FIELDS]
        if identity:
            opened = self.casework.reveal_identity(
                p, case_id, reason=f"exchange referral to {to_agency} ({profile_id})",
                fields=tuple(identity))
            record.update({k: (list(v) if isinstance(v, tuple) else v)
                           for k, v in opened.items() if k in identity})
        with self.engine.begin() as conn:
            sent = self.send(p, to=[to_agency], profile_id=profile_id, records=[record],
                             legal_basis=basis, consent_refs=consent_refs, conn=conn)
            xdb.insert_referral(conn, referral_id=record["ref"], direction="out",
                                package_id=sent.package_id, peer=to_agency, case_id=case_id,
                                profile=profile_id, status="pending", updated_at=self.clock())
            self._audit(conn, p, "exchange.referral_sent", case_id, referral_id=record["ref"],
                        to=to_agency, profile=profile_id, fields=sorted(record))
        return sent

    def _consent(self, p: Principal, case_id: str, data: dict[str, Any], prof: pr.Profile,
                 to_agency: str, basis: str) -> list[str]:
        if basis != "consent" or prof.consent is None:
            return []
        live = [c for c in self.casework.consents(p, case_id)
                if c.live and c.purpose == prof.consent and c.recipient in (None, to_agency)]
        if live:
            return [live[-1].consent_id]
        if data.get("is_child"):
            return [f"child-best-interest:{case_id}"]
        raise WorkflowError(f"Sharing this case with {to_agency} for {prof.id!r} needs the "
                            f"person's consent for {prof.consent!r}; nothing was sent.",
                            hint="record the consent (per purpose, per recipient) first")

    # ---- receiver ----------------------------------------------------------------------------
    def _on_cases(self, p: Principal | str, conn: sa.Connection,
                  got: Verified) -> tuple[str, str | None]:
        if got.profile.id not in (*REFERRAL_PROFILES, "referral-response") or (
                got.counts.get(CASES) != 1 and got.profile.id != "referral-response"):
            return super()._on_cases(p, conn, got)  # not one referral: records built on opening
        rows = got.records.get(CASES, [])
        sender, now = str(got.manifest["sender"]), self.clock()
        if got.profile.id == "referral-response":
            for row in rows:
                ref = xdb.get_referral(conn, str(row.get("ref")), "out")
                if ref is None or ref.peer != sender:
                    raise ExchangeError(f"The answer names referral {row.get('ref')}, which was "
                                        f"not sent to {sender}.", reason="not-a-recipient")
                xdb.set_referral(conn, ref.referral_id, "out", status=str(row.get("answer")),
                                 at=now, outcome=row.get("outcome"))
                self._audit(conn, p, "exchange.referral_answered", ref.case_id or "",
                            referral_id=ref.referral_id, answer=row.get("answer"),
                            outcome=row.get("outcome"), by=sender)
            return "referral-response", None
        ref_id = str(rows[0].get("ref"))
        xdb.insert_referral(conn, referral_id=ref_id, direction="in", package_id=got.package_id,
                            peer=sender, case_id=None, profile=got.profile.id,
                            status="pending", updated_at=now)
        self._audit(conn, p, "exchange.referral_received", got.package_id, referral_id=ref_id,
                    sender=sender, profile=got.profile.id, fields=sorted(rows[0]))
        return "referral", ref_id

    def inbox(self, p: Principal) -> list[dict[str, Any]]:
        require_role(p, Action.REFERRAL_RESPOND)
        with self.engine.begin() as conn:
            out = []
            for r in xdb.referrals(conn, "in"):
                pkg = xdb.get_package(conn, r.package_id, "in")
                status = "recalled" if pkg is not None and pkg.status == "purged" else r.status
                out.append({"referral_id": r.referral_id, "from": r.peer, "profile": r.profile,
                            "status": status, "package_id": r.package_id,
                            "outcome": r.outcome, "expires": pkg.expires.isoformat()
                            if pkg is not None else None})
            return out

    def outbox(self, p: Principal) -> list[dict[str, Any]]:
        require_role(p, Action.CASE_REFER)
        with self.engine.begin() as conn:
            return [{"referral_id": r.referral_id, "to": r.peer, "case_id": r.case_id,
                     "profile": r.profile, "status": r.status, "outcome": r.outcome,
                     "package_id": r.package_id} for r in xdb.referrals(conn, "out")]

    def referral(self, p: Principal, referral_id: str) -> dict[str, Any]:
        """The shared fields of an incoming referral (read from the payload, audited)."""
        with self.engine.begin() as conn:
            row = xdb.get_referral(conn, referral_id, "in")
        if row is None:
            raise NotFoundError(f"No incoming referral {referral_id!r}.")
        records = self.open_records(p, row.package_id)
        return next(r for r in records if r.get("ref") == referral_id)

    def answer(self, p: Principal, referral_id: str, *, answer: str,
               outcome: str | None = None) -> Sent:
        """Accept, decline or complete an incoming referral; the answer goes back signed."""
        require_role(p, Action.REFERRAL_RESPOND)
        if answer not in ANSWERS:
            raise ValidationError("not an answer", column="answer", value=answer,
                                  allowed=", ".join(ANSWERS))
        if outcome is not None and outcome not in OUTCOMES:
            raise ValidationError("not an outcome code", column="outcome", value=outcome,
                                  allowed=", ".join(OUTCOMES))
        with self.engine.begin() as conn:
            row = xdb.get_referral(conn, referral_id, "in")
            if row is None:
                raise NotFoundError(f"No incoming referral {referral_id!r}.")
            pkg = xdb.get_package(conn, row.package_id, "in")
            if pkg is None or pkg.status == "purged":
                raise WorkflowError("The referral was recalled by its sender; it cannot be "
                                    "answered.")
            allowed = {"accepted": ("pending",), "declined": ("pending",),
                       "completed": ("accepted",)}[answer]
            if row.status not in allowed:
                raise WorkflowError(f"The referral is {row.status}: it cannot become {answer}.")
            record: dict[str, Any] = {"ref": referral_id, "answer": answer}
            if outcome:
                record["outcome"] = outcome
            sent = self.send(p, to=[row.peer], profile_id="referral-response", records=[record],
                             legal_basis="statute", in_reply_to=row.package_id, conn=conn)
            xdb.set_referral(conn, referral_id, "in", status=answer, at=self.clock(),
                             outcome=outcome)
            self._audit(conn, p, f"exchange.referral_{answer}", row.package_id,
                        referral_id=referral_id, outcome=outcome)
            return sent
