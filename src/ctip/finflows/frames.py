"""Canonical transactions and parties, and the validation that turns read text into them.

A reader yields ``(row_number, raw)`` where ``raw`` maps canonical field names to the text found
(after the mapping file renamed the bank's columns). ``validate_transaction`` and
``validate_party`` return a typed row or the list of problems; the caller keeps every rejected
row with its reasons, so what was read is always accepted + rejected.

The analytic frame the rules run on (``ANALYTIC_COLUMNS``) holds no account number and no name:
accounts and counterparties are 63-bit keyed references (``account``, ``counterparty``) that the
service derives from HMAC pseudonyms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from ctip.domain.problems import Problem

CHANNELS = ("cash", "wire", "ach", "card", "prepaid", "msb", "crypto", "cheque", "transfer",
            "other")
CHANNEL_WORDS = {
    "cash": "cash", "atm": "cash", "counter": "cash", "cash deposit": "cash",
    "cash withdrawal": "cash", "wire": "wire", "swift": "wire", "international wire": "wire",
    "ach": "ach", "direct debit": "ach", "standing order": "ach", "sepa": "ach", "giro": "ach",
    "card": "card", "pos": "card", "debit card": "card", "credit card": "card",
    "prepaid": "prepaid", "prepaid card": "prepaid", "msb": "msb", "money transfer": "msb",
    "remittance": "msb", "crypto": "crypto", "virtual currency": "crypto", "cheque": "cheque",
    "check": "cheque", "transfer": "transfer", "internal transfer": "transfer",
    "mobile": "transfer", "p2p": "transfer", "other": "other",
}
DIRECTION_WORDS = {"in": "in", "credit": "in", "crdt": "in", "cr": "in", "c": "in",
                   "out": "out", "debit": "out", "dbit": "out", "dr": "out", "d": "out"}
CUSTOMER_TYPES = {"person": "person", "individual": "person", "private": "person",
                  "business": "business", "company": "business", "corporate": "business",
                  "organisation": "business", "organization": "business"}

# canonical transaction fields: (name, required)
TRANSACTION_FIELDS = (
    ("txn_id", True), ("booked_at", True), ("amount", True), ("currency", True),
    ("direction", False), ("channel", False), ("account", True), ("counterparty_account", False),
    ("counterparty_name", False), ("counterparty_country", False), ("merchant_name", False),
    ("mcc", False), ("location", False), ("region", False), ("purpose", False),
)
PARTY_FIELDS = (
    ("party_id", True), ("account", True), ("customer_type", True), ("name", False),
    ("business_type", False), ("employees", False), ("opening_date", False), ("region", False),
    ("opens", False), ("closes", False), ("phone", False), ("email", False), ("address", False),
    ("device_id", False), ("observed", False),
)
IDENTIFIER_KINDS = ("phone", "email", "address", "device_id")
OBSERVED_FLAGS = ("third_party_present", "third_party_holds_documents",
                  "does_not_know_own_address", "accompanied_by_controller")

# the columns the rules see (DuckDB types); no account number, no name
ANALYTIC_COLUMNS = {
    "txn_id": "VARCHAR", "booked_at": "TIMESTAMP", "time_known": "BOOLEAN", "amount": "DOUBLE",
    "currency": "VARCHAR", "channel": "VARCHAR", "direction": "VARCHAR", "account": "BIGINT",
    "counterparty": "BIGINT", "counterparty_country": "VARCHAR", "merchant": "VARCHAR",
    "mcc": "VARCHAR", "location": "VARCHAR", "region": "VARCHAR", "purpose": "VARCHAR",
}
ACCOUNT_COLUMNS = {
    "account": "BIGINT", "party": "BIGINT", "customer_type": "VARCHAR",
    "business_type": "VARCHAR", "employees": "INTEGER", "home_region": "VARCHAR",
    "opens": "INTEGER", "closes": "INTEGER", "observed": "VARCHAR",
}
IDENTIFIER_COLUMNS = {"party": "BIGINT", "kind": "VARCHAR", "key": "VARCHAR"}

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_MCC = re.compile(r"^\d{4}$")
_PURPOSE = re.compile(r"^[A-Z0-9]{1,8}$")
_AMOUNT = re.compile(r"^[+-]?\d+(\.\d+)?$")


def account_number(text: str) -> str:
    """An account number as compared and pseudonymised: no spaces or dashes, upper case."""
    return re.sub(r"[\s\-./]", "", text).upper()


def reference(digest_hex: str) -> int:
    """A 63-bit account reference from a keyed pseudonym (hex): stable, positive, not reversible
    without the pseudonym key. Collisions are refused by the store's unique pseudonym column."""
    return int(digest_hex[:16], 16) & 0x7FFF_FFFF_FFFF_FFFF


def row_hash(raw: Mapping[str, str | None]) -> str:
    """SHA-256 of the row as read (canonical names, sorted): the same row gives the same hash."""
    text = "\x1f".join(f"{k}={raw.get(k) or ''}" for k in sorted(raw))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(raw: Mapping[str, str | None], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def parse_timestamp(text: str) -> tuple[datetime, bool] | None:
    """(naive UTC timestamp, whether a time of day was given) or None if unreadable."""
    value = text.strip().replace("/", "-")
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time()), False
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment, True


@dataclass(frozen=True)
class Checked:
    """A validated row (typed values) or the problems that reject it."""

    values: dict[str, Any] | None
    problems: tuple[Problem, ...]


def _missing(problems: list[Problem], raw: Mapping[str, str | None],
             fields: tuple[tuple[str, bool], ...]) -> None:
    for name, required in fields:
        if required and _text(raw, name) is None:
            problems.append(Problem(name, "is required and empty"))


def validate_transaction(raw: Mapping[str, str | None]) -> Checked:
    """Check one transaction row; amounts are positive with the direction in ``direction``
    (a signed amount without a direction gives the direction: negative = out)."""
    problems: list[Problem] = []
    _missing(problems, raw, TRANSACTION_FIELDS)
    out: dict[str, Any] = {}
    out["txn_id"] = _text(raw, "txn_id")
    if out["txn_id"] is not None and len(out["txn_id"]) > 120:
        problems.append(Problem("txn_id", "is longer than 120 characters", out["txn_id"]))
    stamp = _text(raw, "booked_at")
    if stamp is not None:
        parsed = parse_timestamp(stamp)
        if parsed is None:
            problems.append(Problem("booked_at", "is not a date or date-time", stamp,
                                    "ISO 8601, e.g. 2024-03-01 or 2024-03-01T21:30:00"))
        else:
            out["booked_at"], out["time_known"] = parsed
    amount_text = _text(raw, "amount")
    sign = 1
    if amount_text is not None:
        cleaned = amount_text.replace(",", "").replace(" ", "")
        if not _AMOUNT.match(cleaned):
            problems.append(Problem("amount", "is not a number", amount_text,
                                    "digits with a point for decimals, e.g. 9500.00"))
        else:
            value = float(cleaned)
            sign = -1 if value < 0 else 1
            if value == 0:
                problems.append(Problem("amount", "is zero", amount_text))
            out["amount"] = round(abs(value), 2)
    currency = _text(raw, "currency")
    if currency is not None:
        currency = currency.upper()
        if not _CURRENCY.match(currency):
            problems.append(Problem("currency", "is not an ISO 4217 code", currency, "e.g. USD"))
        out["currency"] = currency
    direction = _text(raw, "direction")
    if direction is None:
        out["direction"] = "out" if sign < 0 else ("in" if amount_text and
                                                   amount_text.lstrip().startswith("+") else None)
        if out["direction"] is None:
            problems.append(Problem("direction", "is empty and the amount has no sign",
                                    allowed="in/out, credit/debit, CRDT/DBIT"))
    else:
        found = DIRECTION_WORDS.get(direction.casefold())
        if found is None:
            problems.append(Problem("direction", "is not a direction", direction,
                                    "in/out, credit/debit, CRDT/DBIT"))
        out["direction"] = found
    channel = _text(raw, "channel")
    out["channel"] = "other" if channel is None else CHANNEL_WORDS.get(channel.casefold())
    if out["channel"] is None:
        problems.append(Problem("channel", "is not a known channel", channel,
                                ", ".join(CHANNELS)))
    out["account"] = _text(raw, "account")
    if out["account"] is not None:
        out["account"] = account_number(out["account"])
    cp = _text(raw, "counterparty_account")
    out["counterparty_account"] = account_number(cp) if cp else None
    out["counterparty_name"] = _text(raw, "counterparty_name")
    country = _text(raw, "counterparty_country")
    if country is not None:
        country = country.upper()
        if not _COUNTRY.match(country):
            problems.append(Problem("counterparty_country", "is not an ISO 3166 alpha-2 code",
                                    country, "e.g. DE"))
    out["counterparty_country"] = country
    out["merchant_name"] = _text(raw, "merchant_name")
    mcc = _text(raw, "mcc")
    if mcc is not None and not _MCC.match(mcc):
        problems.append(Problem("mcc", "is not a four-digit merchant category code", mcc))
    out["mcc"] = mcc
    out["location"] = _text(raw, "location")
    out["region"] = _text(raw, "region")
    purpose = _text(raw, "purpose")
    if purpose is not None:
        purpose = purpose.upper()
        if not _PURPOSE.match(purpose):
            problems.append(Problem("purpose", "is not a purpose code", purpose,
                                    "ISO 20022 purpose codes such as SALA (salary)"))
    out["purpose"] = purpose
    return Checked(None if problems else out, tuple(problems))


def _hour(raw: Mapping[str, str | None], name: str, problems: list[Problem]) -> int | None:
    text = _text(raw, name)
    if text is None:
        return None
    try:
        hour = int(text.split(":")[0])
    except ValueError:
        hour = -1
    if not 0 <= hour <= 24:
        problems.append(Problem(name, "is not an hour of the day", text, "0 to 24, e.g. 9"))
        return None
    return hour


def validate_party(raw: Mapping[str, str | None]) -> Checked:
    """Check one party (KYC) row: who holds an account, and the identifiers to link on."""
    problems: list[Problem] = []
    _missing(problems, raw, PARTY_FIELDS)
    out: dict[str, Any] = {"party_id": _text(raw, "party_id"), "name": _text(raw, "name")}
    acct = _text(raw, "account")
    out["account"] = account_number(acct) if acct else None
    kind = _text(raw, "customer_type")
    if kind is not None:
        out["customer_type"] = CUSTOMER_TYPES.get(kind.casefold())
        if out["customer_type"] is None:
            problems.append(Problem("customer_type", "is not a customer type", kind,
                                    "person or business"))
    out["business_type"] = (_text(raw, "business_type") or "").casefold() or None
    employees = _text(raw, "employees")
    out["employees"] = None
    if employees is not None:
        if employees.isdigit():
            out["employees"] = int(employees)
        else:
            problems.append(Problem("employees", "is not a whole number", employees))
    opened = _text(raw, "opening_date")
    out["opening_date"] = None
    if opened is not None:
        try:
            out["opening_date"] = date.fromisoformat(opened)
        except ValueError:
            problems.append(Problem("opening_date", "is not a date", opened, "YYYY-MM-DD"))
    out["region"] = _text(raw, "region")
    out["opens"] = _hour(raw, "opens", problems)
    out["closes"] = _hour(raw, "closes", problems)
    for name in IDENTIFIER_KINDS:
        out[name] = _text(raw, name)
    flags = [f.strip().casefold() for f in (_text(raw, "observed") or "").split(";") if f.strip()]
    unknown = [f for f in flags if f not in OBSERVED_FLAGS]
    if unknown:
        problems.append(Problem("observed", "names an observation ctip does not know",
                                ";".join(unknown), ", ".join(OBSERVED_FLAGS)))
    out["observed"] = ";".join(sorted(set(flags))) or None
    return Checked(None if problems else out, tuple(problems))


def normalise_identifier(kind: str, text: str) -> str:
    """The form identifiers are compared in (then pseudonymised): phones digits only, e-mail
    casefolded, addresses casefolded with runs of punctuation and spaces collapsed."""
    if kind == "phone":
        return re.sub(r"\D", "", text).lstrip("0")
    if kind == "email":
        return text.strip().casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())
