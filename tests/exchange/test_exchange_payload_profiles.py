"""What ctip itself exports passes the profile of its payload kind: the FtM streams of finflows
(alerts) and supply (risks) pass ``investigation``, the SDMX-CSV of ``ctip publish`` passes
``statistics``; and the gate is the same function at both ends (``payloads.check_payload``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ctip.errors import ExchangeError
from ctip.exchange import package as pk
from ctip.exchange import payloads as pl
from ctip.exchange import profiles as pr
from ctip.finflows import ftm
from ctip.publish.exports.sdmx import write_sdmx_csv
from ctip.supply.outputs import ftm_entities


def _finflows() -> list[dict[str, Any]]:
    alert = {"account_ref": 7, "alert_id": "al-7", "score": 2.5, "rules": ["FF-RAPID"],
             "hits": [{"rule_id": "FF-RAPID", "rule_version": 1,
                       "window_start": "2026-02-01T00:00:00", "window_end": "2026-02-02T00:00:00",
                       "figures": {"out_share": 0.97}, "evidence_count": 2}]}
    txs = [{"account_ref": 7, "counterparty_ref": None, "direction": "out", "txn_id": "t-9",
            "amount": 80, "currency": "EUR", "booked_at": "2026-02-01", "channel": "cash",
            "merchant": "ATM 14", "purpose": "advance for travel"},
           {"account_ref": 7, "counterparty_ref": 8, "direction": "in", "txn_id": "t-8",
            "amount": 900, "currency": "EUR", "booked_at": "2026-02-01", "channel": "sepa"}]
    accounts = {7: ftm.AccountInfo(7, holder=True, customer_type="person", number="X1",
                                   name="A. Holder")}
    return ftm.entities([alert], accounts, txs)


def _supply() -> list[dict[str, Any]]:
    group = {"supplier": "Sea Star Fishing Co", "supplier_country": "TH", "rule": "dol_list",
             "good": "Fish", "hit_country": "TH", "entity_id": None, "list_version": "dol-2024",
             "list_label": "US DOL List of Goods", "edition": "2024", "flags": "forced labour",
             "path": None, "score": 1.0}
    return ftm_entities([group], [("Sea Star Fishing Co", "Sea Star Fishing Co")])


@pytest.mark.parametrize("stream", [_finflows, _supply])
def test_ctip_ftm_exports_pass_the_investigation_profile(stream) -> None:  # type: ignore[no-untyped-def]
    entities = stream()
    assert ftm.validate(entities) == []
    data = ftm.to_lines(entities).encode()
    counts = pl.check_payload(pr.profile("investigation"), {pl.FTM: data})
    assert counts == {pl.FTM: len(entities)}
    assert pl.records(pr.profile("investigation"), pl.FTM, data) == entities


def test_publish_sdmx_passes_the_statistics_profile_and_microdata_do_not(tmp_path: Path) -> None:
    sdg = pd.DataFrame({"year": [2024, 2024, 2024], "ref_area": ["NGA"] * 3,
                        "series": ["VC_HTF_DETVFL", "VC_HTF_DETVML", "VC_HTF_DETV"],
                        "sex": ["F", "M", "_T"], "age": ["_T", "_T", "_T"],
                        "count": pd.array([12, pd.NA, 30], dtype="Int64"),
                        "suppressed": [False, True, False], "rate": [0.1, float("nan"), 0.2]})
    write_sdmx_csv(tmp_path / "s.csv", sdg)
    data = (tmp_path / "s.csv").read_bytes()
    prof = pr.profile("statistics")
    assert pl.check_payload(prof, {pl.SDMX: data})[pl.SDMX] >= 3
    micro = b"ref,sex,age,nationality\nr1,female,24,ROU\n"
    with pytest.raises(ExchangeError, match="'ref' is outside") as caught:
        pl.check_payload(prof, {pl.SDMX: micro})
    assert caught.value.reason == "out-of-profile"
    with pytest.raises(ExchangeError, match="needs the file"):
        pl.check_payload(prof, {})


def _evidence(scan: bytes = b"page one") -> dict[str, bytes]:
    sha = pl.sha256_hex(scan)
    event = {"v": 1, "case": "c", "seq": 1, "prev": "0" * 64, "at": "2026-01-01T00:00:00Z",
             "action": "ingest", "item": sha, "actor": "sup@NRM-XA", "role": "supervisor",
             "purpose": "investigation", "note": None, "key": "k", "details": {"size": 8}}
    event["hash"] = pl.sha256_hex(pl.canonical_json(event))
    item = {"sha256": sha, "size": len(scan), "mime": "text/plain", "kind": "file",
            "file": pl.item_path(sha)}
    return {pl.EVIDENCE: pk.jsonl([item]), pl.CUSTODY: pk.jsonl([event]),
            pl.item_path(sha): scan}


def test_an_evidence_excerpt_is_checked_item_by_hash_and_event_by_hash() -> None:
    prof = pr.profile("mla-evidence")
    files = _evidence()
    (item_file,) = [p for p in files if pl.ITEM.match(p)]
    assert pl.check_payload(prof, files) == {pl.EVIDENCE: 1, pl.CUSTODY: 1, item_file: 1}
    swapped = {**files, item_file: b"page 0ne"}
    with pytest.raises(ExchangeError, match="do not match the item's SHA-256") as caught:
        pl.check_payload(prof, swapped)
    assert caught.value.reason == "tampered"
    edited = {**files, pl.CUSTODY: files[pl.CUSTODY].replace(b"sup@NRM-XA", b"inv@NRM-XA")}
    with pytest.raises(ExchangeError, match="does not match its hash") as caught:
        pl.check_payload(prof, edited)
    assert caught.value.reason == "tampered"
    other = _evidence(b"another item")
    (stray,) = [p for p in other if pl.ITEM.match(p)]
    with pytest.raises(ExchangeError, match="not one of the items listed"):
        pl.check_payload(prof, {**files, stray: other[stray]})
    with pytest.raises(ExchangeError, match="no ingest event"):
        pl.check_payload(prof, {**files, pl.CUSTODY: b""})
