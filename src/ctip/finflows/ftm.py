"""FollowTheMoney export of alerts: what Aleph/OpenAleph, Neo4j or a partner FIU load.

Built with the ``followthemoney`` package: ``BankAccount`` per account, ``Person`` or
``Company`` (``LegalEntity`` when the type is unknown) per holder with an ``Ownership`` to the
account, ``Payment`` per evidence transaction, ``Note`` per alert with the explanation (rule ids
and versions, windows, thresholds) and ``topics`` ``crime.traffick.human`` on what an alert
names. Entity ids are derived from ctip's keyed references, so the same input gives the same
stream (lines sorted by id). Without identities (the default) accounts and holders are named
by reference only; with identities (an audited reveal) the account numbers and names are in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from followthemoney import model

TOPIC = "crime.traffick.human"
NAMESPACE = "ctip-finflows"


@dataclass(frozen=True)
class AccountInfo:
    ref: int
    holder: bool
    customer_type: str | None = None
    number: str | None = None  # only when identities are exported
    name: str | None = None


def _id(*parts: Any) -> str:
    entity = model.make_entity("Thing")
    return str(entity.make_id(NAMESPACE, *[str(p) for p in parts]))


def _make(schema: str, *parts: Any) -> Any:
    entity = model.make_entity(schema)
    entity.id = _id(schema, *parts)
    return entity


def entities(alerts: Iterable[dict[str, Any]], accounts: dict[int, AccountInfo],
             transactions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """FtM entity dicts (sorted by id) for the alerts, their accounts and evidence."""
    out: dict[str, Any] = {}
    flagged = set()
    account_entity: dict[int, Any] = {}
    holder_entity: dict[int, Any] = {}

    def account(ref: int) -> Any:
        if ref in account_entity:
            return account_entity[ref]
        info = accounts.get(ref, AccountInfo(ref, holder=False))
        bank = _make("BankAccount", "account", ref)
        bank.add("name", info.number or f"account ref {ref}")
        if info.number:
            bank.add("accountNumber", info.number)
        bank.add("summary", f"ctip account reference {ref}")
        schema = {"person": "Person", "business": "Company"}.get(info.customer_type or "",
                                                                 "LegalEntity")
        holder = _make(schema, "holder", ref)
        holder.add("name", info.name or f"holder of account ref {ref}")
        own = _make("Ownership", "holds", ref)
        own.add("owner", holder.id)
        own.add("asset", bank.id)
        own.add("role", "account holder")
        for e in (bank, holder, own):
            out[e.id] = e
        account_entity[ref], holder_entity[ref] = bank, holder
        return bank

    def party(kind: str, label: str) -> Any:
        entity = _make("LegalEntity", kind, label)
        entity.add("name", label)
        out[entity.id] = entity
        return entity

    for alert in alerts:
        ref = int(alert["account_ref"])
        flagged.add(ref)
        bank = account(ref)
        note = _make("Note", "alert", alert["alert_id"])
        note.add("entity", bank.id)
        note.add("name", f"ctip financial-flow alert {alert['alert_id']}")
        note.add("summary", f"score {alert['score']:g}: rules " + ", ".join(alert["rules"]))
        note.add("description", explanation(alert))
        note.add("topics", TOPIC)
        out[note.id] = note
    for tx in transactions:
        own_ref, other = int(tx["account_ref"]), tx.get("counterparty_ref")
        account(own_ref)
        if other is not None:
            account(int(other))
            other_holder, other_bank = holder_entity[int(other)], account_entity[int(other)]
        else:
            label = tx.get("merchant") or f"{tx['channel']} (no counterparty account)"
            other_holder, other_bank = party("counterparty", label), None
        outgoing = tx["direction"] == "out"
        payment = _make("Payment", "txn", tx["txn_id"])
        payer, beneficiary = ((holder_entity[own_ref], other_holder) if outgoing
                              else (other_holder, holder_entity[own_ref]))
        payer_acct, beneficiary_acct = ((account_entity[own_ref], other_bank) if outgoing
                                        else (other_bank, account_entity[own_ref]))
        payment.add("payer", payer.id)
        payment.add("beneficiary", beneficiary.id)
        if payer_acct is not None:
            payment.add("payerAccount", payer_acct.id)
        if beneficiary_acct is not None:
            payment.add("beneficiaryAccount", beneficiary_acct.id)
        payment.add("amount", f"{float(tx['amount']):.2f}")
        payment.add("currency", tx["currency"])
        payment.add("date", str(tx["booked_at"])[:10])
        payment.add("transactionNumber", tx["txn_id"])
        if tx.get("purpose"):
            payment.add("purpose", tx["purpose"])
        payment.add("summary", f"channel {tx['channel']}")
        out[payment.id] = payment
    for ref in flagged:
        account_entity[ref].add("topics", TOPIC)
        holder_entity[ref].add("topics", TOPIC)
    return [out[k].to_dict() for k in sorted(out)]


def explanation(alert: dict[str, Any]) -> str:
    lines = [f"Score {alert['score']:g} = sum of the weights of the rules that fired. "
             "Indicators are hypotheses for review, not findings."]
    for hit in alert["hits"]:
        lines.append(f"{hit['rule_id']} v{hit['rule_version']} {hit['window_start'][:10]} to "
                     f"{hit['window_end'][:10]}: " + json.dumps(hit["figures"], sort_keys=True)
                     + f"; {hit['evidence_count']} transactions")
    return "\n".join(lines)


def to_lines(items: Iterable[dict[str, Any]]) -> str:
    """Newline-delimited JSON, one entity per line (the FtM wire format), byte-stable."""
    return "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in items)


def validate(items: Iterable[dict[str, Any]]) -> list[str]:
    """Problems found by followthemoney: unknown schema or property, invalid values, missing
    required properties, and dangling references inside the stream."""
    problems: list[str] = []
    items = list(items)
    ids = {e["id"] for e in items}
    for e in items:
        schema = model.get(e["schema"])
        if schema is None:
            problems.append(f"{e['id']}: unknown schema {e['schema']}")
            continue
        for name in e["properties"]:
            if name not in schema.properties:
                problems.append(f"{e['id']}: {e['schema']} has no property {name}")
        try:
            schema.validate(e)  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - followthemoney's InvalidData
            problems.append(f"{e['id']}: {error}")
        for name in schema.required:
            if not e["properties"].get(name):
                problems.append(f"{e['id']}: required {name} missing")
        for name, values in e["properties"].items():
            prop = schema.properties.get(name)
            if prop is not None and prop.type.name == "entity":
                problems += [f"{e['id']}: {name} points at {v}, not in the stream"
                             for v in values if v not in ids]
    return problems
