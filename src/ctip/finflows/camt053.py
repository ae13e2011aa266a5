"""ISO 20022 camt.053 bank-to-customer statements (the XML banks export) to canonical rows.

Written by hand on the standard library's ElementTree behind ``defusedxml`` (no entity
expansion, no external entities): the PyPI camt packages either generate messages or pull in
large frameworks for what is a small, read-only mapping. Any camt.053 version works: element
names are read without their namespace (camt.053.001.02 to .001.13 differ in wrapper elements
such as ``Pty``, which are looked through).

One row per transaction detail (``Ntry/NtryDtls/TxDtls``), or per entry when it has none. Row
numbers count entries and details in file order (``entry.detail``, e.g. ``3.2``, is kept as the
row's ``source_ref``). Entries not booked (status other than BOOK) are yielded with a problem,
so they are counted and kept as rejects, never silently dropped.

What camt.053 does not carry: merchant category codes and branch locations (rules needing them
report "not assessed" on camt-only data). A card payment's creditor name is the merchant.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - parsing is defusedxml

from defusedxml import ElementTree as SafeET

from ctip.domain.problems import Problem
from ctip.errors import InputFileError

# Bank transaction code family / sub-family -> ctip channel
_CASH_SUB = {"CDPT", "CWDL", "CHRG"}
_FAMILY = {"CNTR": "cash", "CCRD": "card", "MCRD": "card", "RDDT": "ach", "IDDT": "ach",
           "RCHQ": "cheque", "ICHQ": "cheque", "DRFT": "cheque", "RCDT": "transfer",
           "ICDT": "transfer", "RRCT": "transfer", "MCOP": "transfer"}
_SUB = {"XBCT": "wire", "XBST": "wire", "SALA": "ach", "ESCT": "transfer", "DMCT": "transfer",
        "BOOK": "transfer", "STDO": "ach", "CWDL": "cash", "CDPT": "cash", "POSD": "card",
        "POSC": "card", "SMRT": "prepaid"}


def _strip(root: Element) -> Element:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _find(el: Element | None, path: str) -> Element | None:
    """Like ``find`` but looks through optional wrappers (``Pty`` in camt.053.001.08+)."""
    if el is None:
        return None
    found = el.find(path)
    if found is None and "/" in path:
        head, rest = path.split("/", 1)
        node = el.find(head)
        if node is not None:
            found = _find(node.find("Pty"), rest) if node.find("Pty") is not None else None
    return found


def _text(el: Element | None, path: str) -> str | None:
    node = _find(el, path)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _account(el: Element | None) -> str | None:
    if el is None:
        return None
    return _text(el, "Id/IBAN") or _text(el, "Id/Othr/Id") or _text(el, "Id/Prxy/Id")


def _channel(entry: Element) -> str:
    code = entry.find("BkTxCd/Domn")
    family = _text(code, "Fmly/Cd")
    sub = _text(code, "Fmly/SubFmlyCd")
    if family == "CCRD" and sub == "CWDL":
        return "cash"
    if sub in _SUB:
        return _SUB[sub]
    return _FAMILY.get(family or "", "other")


def read_camt053(data: bytes, *, source_name: str
                 ) -> Iterator[tuple[int, dict[str, str | None] | None, str,
                                     tuple[Problem, ...]]]:
    """Yield ``(row, canonical raw values or None, source reference, problems)``."""
    try:
        root = _strip(SafeET.fromstring(data))
    except SafeET.ParseError as error:
        raise InputFileError("{source_name} is not well-formed XML: {error}",
                             hint="check that the file is a complete camt.053 export",
                             params={"source_name": source_name, "error": error}) from None
    except Exception as error:  # noqa: BLE001 - defusedxml refuses entities with its own types
        raise InputFileError("{source_name} was refused: {error}",
                             hint="XML with entity declarations is not accepted",
                             params={"source_name": source_name, "error": error}) from None
    statements = root.findall("BkToCstmrStmt/Stmt")
    if root.tag != "Document" or not statements:
        raise InputFileError("{source_name} is not a camt.053 statement (no "
                             "Document/BkToCstmrStmt/Stmt)",
                             hint="camt.052 and camt.054 are not read yet; export camt.053",
                             params={"source_name": source_name})
    row = 0
    for stmt_no, stmt in enumerate(statements, start=1):
        account = _account(stmt.find("Acct"))
        stmt_id = _text(stmt, "Id") or f"stmt{stmt_no}"
        for entry_no, entry in enumerate(stmt.findall("Ntry"), start=1):
            details: list[Element | None] = list(entry.findall("NtryDtls/TxDtls")) or [None]
            for detail_no, detail in enumerate(details, start=1):
                row += 1
                ref = f"{stmt_id}:{entry_no}.{detail_no}"
                raw, problems = _row(entry, detail, account, stmt_id, entry_no, detail_no,
                                     len(details))
                yield row, raw, ref, problems


def _row(entry: Element, detail: Element | None, account: str | None, stmt_id: str,
         entry_no: int, detail_no: int, n_details: int
         ) -> tuple[dict[str, str | None] | None, tuple[Problem, ...]]:
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    if status and status != "BOOK":
        return None, (Problem("Sts", "the entry is not booked", status, "BOOK"),)
    amount_el: Any = None
    if detail is not None:
        amount_el = _find(detail, "AmtDtls/TxAmt/Amt") or _find(detail, "Amt")
    if amount_el is None or n_details == 1:
        amount_el = amount_el if amount_el is not None else entry.find("Amt")
    indicator = (_text(detail, "CdtDbtInd") if detail is not None else None) or _text(
        entry, "CdtDbtInd")
    direction = {"CRDT": "in", "DBIT": "out"}.get(indicator or "", indicator)
    booked = _text(entry, "BookgDt/DtTm") or _text(entry, "BookgDt/Dt")
    refs = detail.find("Refs") if detail is not None else None
    txn_id = (_text(refs, "AcctSvcrRef") or _text(refs, "TxId")
              or (_text(entry, "AcctSvcrRef") if n_details == 1 else None)
              or (_text(entry, "NtryRef") if n_details == 1 else None)
              or f"{stmt_id}-{entry_no}-{detail_no}")
    channel = _channel(detail if detail is not None and detail.find("BkTxCd") is not None
                       else entry)
    parties = detail.find("RltdPties") if detail is not None else None
    side = "Dbtr" if direction == "in" else "Cdtr"
    name = _text(parties, f"{side}/Nm")
    cp_account = _account(parties.find(f"{side}Acct")) if parties is not None else None
    country = _text(parties, f"{side}/PstlAdr/Ctry")
    if country is None and cp_account and cp_account[:2].isalpha():
        country = cp_account[:2].upper()  # an IBAN starts with its country
    purpose = _text(detail, "Purp/Cd") if detail is not None else None
    code = entry.find("BkTxCd/Domn")
    if purpose is None and _text(code, "Fmly/SubFmlyCd") == "SALA":
        purpose = "SALA"
    merchant = name if channel == "card" and direction == "out" else None
    raw: dict[str, str | None] = {
        "txn_id": txn_id, "booked_at": booked,
        "amount": amount_el.text.strip() if amount_el is not None and amount_el.text else None,
        "currency": amount_el.get("Ccy") if amount_el is not None else None,
        "direction": direction, "channel": channel, "account": account,
        "counterparty_account": cp_account,
        "counterparty_name": None if merchant else name,
        "counterparty_country": country, "merchant_name": merchant, "purpose": purpose,
    }
    return raw, ()


NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
_CHANNEL_CODES = {"cash": ("CNTR", "CDPT", "CWDL"), "card": ("CCRD", "POSD", "POSD"),
                  "ach": ("RCDT", "SALA", "STDO"), "wire": ("RCDT", "XBCT", "XBCT"),
                  "transfer": ("RCDT", "DMCT", "DMCT"), "cheque": ("RCHQ", "OTHR", "OTHR"),
                  "prepaid": ("CCRD", "SMRT", "SMRT")}


def write_camt053(statement_id: str, account: str, currency: str,
                  rows: list[dict[str, str]]) -> bytes:
    """A camt.053.001.08 statement of canonical rows (for the demo and tests: a real-shaped
    file to import). Deposit/withdrawal sub-families follow the direction."""
    doc = Element("Document", xmlns=NAMESPACE)
    stmt_root = SubElement(doc, "BkToCstmrStmt")
    header = SubElement(stmt_root, "GrpHdr")
    SubElement(header, "MsgId").text = statement_id
    SubElement(header, "CreDtTm").text = "2024-07-01T00:00:00"
    stmt = SubElement(stmt_root, "Stmt")
    SubElement(stmt, "Id").text = statement_id
    acct = SubElement(stmt, "Acct")
    SubElement(SubElement(SubElement(acct, "Id"), "Othr"), "Id").text = account
    SubElement(acct, "Ccy").text = currency
    for row in rows:
        entry = SubElement(stmt, "Ntry")
        amount = SubElement(entry, "Amt", Ccy=row["currency"])
        amount.text = row["amount"]
        incoming = row["direction"] == "in"
        SubElement(entry, "CdtDbtInd").text = "CRDT" if incoming else "DBIT"
        SubElement(SubElement(entry, "Sts"), "Cd").text = "BOOK"
        booked = SubElement(entry, "BookgDt")
        SubElement(booked, "DtTm" if "T" in row["booked_at"] else "Dt").text = row["booked_at"]
        family, sub_in, sub_out = _CHANNEL_CODES.get(row["channel"], ("OTHR", "OTHR", "OTHR"))
        if family == "RCDT" and not incoming:
            family = "ICDT"
        if row.get("purpose") == "SALA":
            sub_in = sub_out = "SALA"
        domain = SubElement(SubElement(entry, "BkTxCd"), "Domn")
        SubElement(domain, "Cd").text = "PMNT"
        fam = SubElement(domain, "Fmly")
        SubElement(fam, "Cd").text = family
        SubElement(fam, "SubFmlyCd").text = sub_in if incoming else sub_out
        detail = SubElement(SubElement(entry, "NtryDtls"), "TxDtls")
        SubElement(SubElement(detail, "Refs"), "AcctSvcrRef").text = row["txn_id"]
        side = "Dbtr" if incoming else "Cdtr"
        name = row.get("merchant_name") or row.get("counterparty_name")
        if name or row.get("counterparty_account"):
            parties = SubElement(detail, "RltdPties")
            if name:
                party = SubElement(SubElement(parties, side), "Pty")
                SubElement(party, "Nm").text = name
                if row.get("counterparty_country"):
                    SubElement(SubElement(party, "PstlAdr"), "Ctry").text = row[
                        "counterparty_country"]
            if row.get("counterparty_account"):
                SubElement(SubElement(SubElement(SubElement(parties, f"{side}Acct"), "Id"),
                                      "Othr"), "Id").text = row["counterparty_account"]
        if row.get("purpose"):
            SubElement(SubElement(detail, "Purp"), "Cd").text = row["purpose"]
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(doc, encoding="utf-8")
