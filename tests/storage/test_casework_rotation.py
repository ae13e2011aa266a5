"""Key rotation covers every case-management sealed column: after ``rotate_keys`` retires the old
key, identity, notes, reasons, break-glass justifications, service notes and TOTP secrets all
still open, through the services and with the registered contexts (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlparse

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service
from ctip.domain.records import Identity
from ctip.services.accounts import Accounts
from ctip.services.casework import CaseIntake, Casework
from ctip.services.keys import rotate_keys
from ctip.settings import Settings
from ctip.storage import casework_sealing as sdb
from ctip.storage.keys import load_ring
from ctip.storage.rotation import SEALED
from ctip.storage.sealing import Sealer

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
A_CW = Principal("u-cw-a", "caseworker.a", Role.CASEWORKER, "A")
A_SUP = Principal("u-sup-a", "supervisor.a", Role.SUPERVISOR, "A")
B_CW = Principal("u-cw-b", "caseworker.b", Role.CASEWORKER, "B")
C_CW = Principal("u-cw-c", "caseworker.c", Role.CASEWORKER, "C")
AUDITOR = Principal("u-aud", "auditor.a", Role.AUDITOR, "A")
PASSWORD = secrets.token_urlsafe(16)  # throwaway users in a throwaway database
GRANT_WHY = "police report a credible threat tonight, need the address"
OVERRIDE_WHY = "she is in danger tonight and cannot be reached to consent"


def _accounts(cw: Casework) -> Accounts:
    return Accounts(cw.engine, cw.sealer, cw.audit, hasher=FAST_HASHER)


def _fill(settings: Settings) -> tuple[str, str, str]:
    """One of everything that is sealed, made through the services. Returns (case, user, secret)."""
    cw = Casework.open(settings)
    try:
        admin = Principal("setup", "setup", Role.ADMIN, "Z")
        for agency in ("B", "C"):  # a referral goes only to an agency the directory lists
            cw.add_service(admin, Service("", agency, f"Shelter {agency}", "safe_accommodation"))
        case_id = cw.create_case(
            A_CW,
            CaseIntake(
                sex="female",
                age=24,
                nationality="NGA",
                languages=("en",),
                exploitation_forms=("sexual_exploitation",),
                notes="sleeps at the Zephyrhof building",
                identity=Identity(given_name="Amina", family_name="Okafor", phone="+2348000000"),
            ),
        ).case_id
        cw.transition(
            A_CW,
            case_id,
            to_state="screening",
            confirmations=("safe_setting", "interpreter_offered"),
        )
        cw.transition(A_CW, case_id, to_state="presumed_victim", reason="strong indicators seen")
        cw.record_consent(A_CW, case_id, purpose="share_with_service_provider", recipient="B")
        declined = cw.refer(A_CW, case_id, to_agency="B")
        cw.decline_referral(B_CW, declined.referral_id, reason="no bed for Amina this week")
        cw.refer(A_SUP, case_id, to_agency="C", consent_override=OVERRIDE_WHY)
        cw.record_service(A_CW, case_id, service_type="legal", note="Okafor lawyer call")
        assert cw.reveal_identity(A_CW, case_id, reason="home visit")["family_name"] == "Okafor"
        cw.emergency_access(C_CW, case_id, justification=GRANT_WHY)
        new = _accounts(cw).add_user(None, "nadia.a", PASSWORD, role="caseworker", agency="A")
        secret = parse_qs(urlparse(new.otpauth_uri).query)["secret"][0]
        return case_id, new.user_id, secret
    finally:
        cw.engine.dispose()


def _casework_columns() -> dict[str, int]:
    return {c.label: 0 for c in sdb.SEALED_COLUMNS}


def test_rotation_covers_every_casework_sealed_column(store_settings: Settings) -> None:
    case_id, user_id, secret = _fill(store_settings)
    old = load_ring(store_settings.resolved_key_file).active

    report = rotate_keys(store_settings, actor="admin", batch_size=2)

    ring = load_ring(store_settings.resolved_key_file)
    assert report.retired_key_ids == [old] and list(ring.keys) == [ring.active] != [old]
    assert set(_casework_columns()) <= set(SEALED)  # all registered with rotation
    resealed = {label: report.resealed[label] for label in _casework_columns()}
    assert resealed == {
        "cases.identity_sealed": 1,
        "cases.notes_sealed": 1,
        "case_events.reason_sealed": 1,  # the presumed-victim step; screening had no reason
        "referrals.reason_sealed": 1,
        "services_given.note_sealed": 1,
        "emergency_grants.justification_sealed": 1,
        "users.totp_sealed": 1,
        "access_reasons.reason_sealed": 2,  # the reveal's reason and the override's
    }

    cw = Casework.open(store_settings)  # a fresh ring: only the new key
    try:
        assert len(cw.sealer.ring.keys) == 1
        with cw.engine.connect() as conn:  # every value under the new key, opening in place
            for col in sdb.SEALED_COLUMNS:
                t = col.table
                rows = conn.execute(
                    sa.select(t.c[col.pk], t.c[col.column]).where(t.c[col.column].is_not(None))
                ).all()
                assert rows, col.label
                for pk, blob in rows:
                    assert Sealer.key_id_of(bytes(blob)) == ring.active
                    assert cw.sealer.open(bytes(blob), context=col.context(pk))
        identity = cw.reveal_identity(A_CW, case_id, reason="after rotation")
        assert (identity["given_name"], identity["phone"]) == ("Amina", "+2348000000")
        assert cw.get_case(A_CW, case_id).data["notes"] == "sleeps at the Zephyrhof building"
        assert [s.note for s in cw.services_given(A_CW, case_id)] == ["Okafor lawyer call"]
        grants = cw.emergency_reviews(A_SUP)
        assert [g["justification"] for g in grants] == [GRANT_WHY]
        reasons = _audited_reasons(cw, case_id)
        assert reasons["consent.override"] == [OVERRIDE_WHY]
        assert reasons["identity.reveal"] == ["home visit", "after rotation"]
        accounts = _accounts(cw)
        login = accounts.login("nadia.a", PASSWORD, pyotp.TOTP(secret).now())
        assert login.principal.user_id == user_id
        assert cw.verify_audit(AUDITOR)["ok"]
    finally:
        cw.engine.dispose()


def _audited_reasons(cw: Casework, case_id: str) -> dict[str, list[str]]:
    """Reasons the audit entries point at, opened from ``access_reasons`` (the audit holds ids)."""
    out: dict[str, list[str]] = {}
    entries = cw.audit_entries(AUDITOR, subject=case_id)
    with cw.engine.connect() as conn:
        for entry in entries:
            details = entry["details"]
            if entry["action"] not in ("identity.reveal", "consent.override"):
                continue
            assert not any("sealed" in key for key in details), details  # no ciphertext
            row = sdb.get_access_reason(conn, details["reason_id"])
            assert row is not None and row.kind == entry["action"] and row.case_id == case_id
            text = cw.sealer.open(
                bytes(row.reason_sealed), context=sdb.access_reason_context(row.reason_id)
            )
            out.setdefault(entry["action"], []).append(text)
    return out
