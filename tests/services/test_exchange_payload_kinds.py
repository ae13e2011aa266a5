"""The payload kinds beyond case records between two real ctip homes (XA on SQLite, XB on
PostgreSQL), packages moved as files: investigation findings as FollowTheMoney entities,
statistics as the SDMX-CSV ``ctip publish`` writes, evidence items with their custody excerpt.
Each round-trips under its purpose profile, and an out-of-profile field is refused when packing
and again when receiving (the receiver's refusal is shown with a sender whose gate is off)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from exchange_support import Instance, cross_sign, instance, new_case

from ctip.errors import ExchangeError
from ctip.evidence.signing import new_signing_key
from ctip.exchange import package as pk
from ctip.exchange import payloads as pl
from ctip.finflows.ftm import AccountInfo, entities
from ctip.publish.exports.sdmx import write_sdmx_csv
from ctip.services.anchoring import Notary
from ctip.services.evidence import Locker
from ctip.services.exchange_payloads import ExchangePayloads
from ctip.services.timestamping import LocalTSA, init_local_tsa
from ctip.storage.evidence_blobs import BlobStore


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory,
         module_pg_url: str) -> Iterator[tuple[Instance, Instance]]:
    tmp = tmp_path_factory.mktemp("homes")
    a = instance(tmp / "a", f"sqlite:///{tmp / 'a.db'}", "NRM-XA", "XA", cls=ExchangePayloads)
    b = instance(tmp / "b", module_pg_url, "NRM-XB", "XB", cls=ExchangePayloads)
    cross_sign(a, b)
    yield a, b
    a.x.engine.dispose()
    b.x.engine.dispose()


def _x(i: Instance) -> ExchangePayloads:
    assert isinstance(i.x, ExchangePayloads)
    return i.x


def _findings() -> list[dict[str, Any]]:
    alert = {"account_ref": 1, "alert_id": "al-1", "score": 3.0, "rules": ["FF-FANOUT"],
             "hits": [{"rule_id": "FF-FANOUT", "rule_version": 2,
                       "window_start": "2026-01-01T00:00:00", "window_end": "2026-01-31T00:00:00",
                       "figures": {"payees": 9}, "evidence_count": 1}]}
    tx = {"account_ref": 1, "counterparty_ref": 2, "direction": "out", "txn_id": "t-1",
          "amount": 250.0, "currency": "EUR", "booked_at": "2026-01-05", "channel": "sepa"}
    accounts = {1: AccountInfo(1, holder=True, customer_type="person", number="RO49AAAA1B31",
                               name="Ion Recruiter")}
    return entities([alert], accounts, [tx])


def _statistics(tmp: Path) -> bytes:
    sdg = pd.DataFrame({"year": [2025, 2025], "ref_area": ["ROU", "ROU"],
                        "series": ["VC_HTF_DETVFL", "VC_HTF_DETVFL"], "sex": ["F", "M"],
                        "age": ["_T", "_T"], "count": pd.array([41, pd.NA], dtype="Int64"),
                        "suppressed": [False, True], "rate": [0.42, float("nan")]})
    write_sdmx_csv(tmp / "sdg.sdmx.csv", sdg)
    return (tmp / "sdg.sdmx.csv").read_bytes()


def _locker(a: Instance, tmp: Path) -> Locker:
    init_local_tsa(tmp / "tsa")
    tsa, notary = LocalTSA(tmp / "tsa"), Notary(new_signing_key())
    return Locker(a.x.casework, BlobStore(tmp / "blobs"), lambda: tsa, lambda: notary)


def _ungated(monkeypatch: pytest.MonkeyPatch, send: Callable[[], Any]) -> Any:
    """A sender whose gate is off (a non-ctip or altered sender): only the receiver checks."""
    with monkeypatch.context() as m:
        m.setattr(pl, "check_payload", lambda prof, files: dict.fromkeys(files, 0))
        return send()


def _refused_on_receipt(b: Instance, data: bytes, match: str) -> None:
    with pytest.raises(ExchangeError, match=match) as caught:
        b.x.receive(b.sup, b.move(data, "ungated.ctipx"))
    assert caught.value.reason == "out-of-profile"
    with b.x.engine.connect() as conn:
        last = [e for e in b.x.audit.entries(conn) if e.action == "exchange.rejected"][-1]
    assert last.details["reason"] == "out-of-profile"


def test_findings_travel_as_followthemoney_and_the_receipt_comes_back(pair) -> None:
    a, b = pair
    found = _findings()
    sent = _x(a).send_findings(a.sup, to=["NRM-XB"], entities=found)
    assert sent.manifest["profile"]["id"] == "investigation" and sent.manifest["tlp"] == "RED"
    raw = b.move(sent.data, sent.file_name)
    assert b"Ion Recruiter" not in raw
    got = b.x.receive(b.sup, raw)
    assert (got.kind, got.profile) == ("ftm", "investigation")
    assert _x(b).received_records(b.sup, sent.package_id) == {pl.FTM: found}
    a.x.receive(a.sup, a.move(got.reply.data, got.reply.file_name))
    (out,) = [p for p in a.x.packages("out") if p["package_id"] == sent.package_id]
    assert out["status"] == "receipted"


def test_an_ftm_property_outside_the_profile_is_refused_at_both_ends(pair, monkeypatch) -> None:
    a, b = pair
    person = {"id": "p-1", "schema": "Person",
              "properties": {"name": ["Ion Recruiter"], "religion": ["x"]}}
    before = len(a.x.packages("out"))
    with pytest.raises(ExchangeError, match="'ftm:religion' is outside") as caught:
        _x(a).send_findings(a.sup, to=["NRM-XB"], entities=[person])
    assert caught.value.reason == "out-of-profile" and len(a.x.packages("out")) == before
    sent = _ungated(monkeypatch, lambda: _x(a).send_findings(a.sup, to=["NRM-XB"],
                                                             entities=[person]))
    _refused_on_receipt(b, sent.data, "'ftm:religion' is outside")
    vessel = {"id": "v-1", "schema": "Vessel", "properties": {"name": ["Sea Star"]}}
    with pytest.raises(ExchangeError, match="breaks the rule 'ftm-schema'"):
        _x(a).send_findings(a.sup, to=["NRM-XB"], entities=[vessel])


def test_statistics_travel_as_the_published_sdmx_csv(pair, tmp_path: Path) -> None:
    a, b = pair
    data = _statistics(tmp_path)
    sent = _x(a).send_statistics(a.sup, to=["NRM-XB"], sdmx_csv=data)
    got = b.x.receive(b.sup, b.move(sent.data, sent.file_name))
    assert (got.kind, got.profile) == ("sdmx", "statistics")
    assert b.x.open_files(b.sup, sent.package_id) == {pl.SDMX: data}
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    held = _x(b).received_records(b.sup, sent.package_id)[pl.SDMX]
    assert held == rows and [r["OBS_STATUS"] for r in held if r["SERIES"] == "VC_HTF_DETVFL"] \
        == ["A", "C"]


def test_a_column_or_a_free_text_cell_outside_the_statistics_profile_is_refused(
        pair, tmp_path: Path, monkeypatch) -> None:
    a, b = pair
    data = _statistics(tmp_path).decode("utf-8-sig")
    lines = data.splitlines()
    extra = "\n".join([lines[0] + ",case_ref"] + [line + ",C-17" for line in lines[1:]]) + "\n"
    with pytest.raises(ExchangeError, match="'case_ref' is outside") as caught:
        _x(a).send_statistics(a.sup, to=["NRM-XB"], sdmx_csv=extra.encode())
    assert caught.value.reason == "out-of-profile"
    sent = _ungated(monkeypatch, lambda: _x(a).send_statistics(
        a.sup, to=["NRM-XB"], sdmx_csv=extra.encode()))
    _refused_on_receipt(b, sent.data, "'case_ref' is outside")
    named = data.replace(",41,", ",Ana Popescu,", 1)
    assert named != data
    with pytest.raises(ExchangeError, match="'OBS_VALUE' breaks the rule"):
        _x(a).send_statistics(a.sup, to=["NRM-XB"], sdmx_csv=named.encode())


def test_evidence_items_travel_with_their_custody_excerpt(pair, tmp_path: Path) -> None:
    a, b = pair
    locker = _locker(a, tmp_path)
    case_id = new_case(a)
    scan = b"%PDF-1.4 scan of a contract page\n"
    item = locker.ingest(a.sup, case_id, io.BytesIO(scan), name="contract.pdf",
                         origin="seized phone").item
    other = locker.ingest(a.sup, case_id, io.BytesIO(b"not shared"), name="other.txt").item
    sent = _x(a).send_evidence(a.sup, locker, case_id, to=["NRM-XB"], items=[item.sha256[:12]])
    assert sent.manifest["profile"]["id"] == "mla-evidence"
    got = b.x.receive(b.sup, b.move(sent.data, sent.file_name))
    assert (got.kind, got.profile) == ("evidence", "mla-evidence")
    files = b.x.open_files(b.sup, sent.package_id)
    assert files[pl.item_path(item.sha256)] == scan and pl.item_path(other.sha256) not in files
    held = _x(b).received_records(b.sup, sent.package_id)
    (record,) = held[pl.EVIDENCE]
    assert record["sha256"] == item.sha256 and "name" not in record
    custody = held[pl.CUSTODY]
    assert [e["action"] for e in custody][:1] == ["ingest"]
    assert {e["item"] for e in custody} == {item.sha256}
    # the hand-over is in the sender's custody log
    assert any(e["action"] == "export" and e["details"].get("exchange_to") == ["NRM-XB"]
               for e in locker.custody(a.sup, case_id))


def test_an_evidence_field_outside_the_profile_is_refused_at_both_ends(
        pair, tmp_path: Path, monkeypatch) -> None:
    a, b = pair
    scan = b"photo bytes"
    sha = pk.sha256_hex(scan)
    item = {"sha256": sha, "size": len(scan), "mime": "image/jpeg", "kind": "file",
            "file": pl.item_path(sha), "name": "IMG_0001 Ana at the flat.jpg"}
    event = {"v": 1, "case": "c", "seq": 1, "prev": "0" * 64, "at": "2026-01-01T00:00:00Z",
             "action": "ingest", "item": sha, "actor": "sup@NRM-XA", "role": "supervisor",
             "purpose": "investigation", "note": None, "key": "k", "details": {}}
    event["hash"] = pk.sha256_hex(pk.canonical_json(event))
    files = [pk.PayloadFile(pl.EVIDENCE, "application/x-ndjson", pk.jsonl([item])),
             pk.PayloadFile(pl.CUSTODY, "application/x-ndjson", pk.jsonl([event])),
             pk.PayloadFile(pl.item_path(sha), "application/octet-stream", scan)]

    def send() -> Any:
        return a.x.send_files(a.sup, to=["NRM-XB"], profile_id="mla-evidence", files=files,
                              legal_basis="mla-request")

    with pytest.raises(ExchangeError, match="'name' is outside"):
        send()
    _refused_on_receipt(b, _ungated(monkeypatch, send).data, "'name' is outside")


def test_a_file_of_another_kind_is_refused(pair) -> None:
    a, _ = pair
    with pytest.raises(ExchangeError, match="not a ftm payload file") as caught:
        a.x.send_files(a.sup, to=["NRM-XB"], profile_id="investigation", files=[
            pk.PayloadFile(pl.CASES, "application/x-ndjson", b'{"ref":"r1"}\n')],
            legal_basis="statute")
    assert caught.value.reason == "out-of-profile"
