"""Two ``ctip serve`` on loopback (XA on SQLite, XB on PostgreSQL) exchange a referral through
their drop boxes: the package goes to B's ``/api/exchange/inbox``, B's receipt (the answer's
body) goes to A's, and B's answer to the referral follows the same way."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ctip.domain.access import Principal, Role
from ctip.domain.records import Identity
from ctip.services.case_intake import CaseIntake
from ctip.services.exchange_referrals import ExchangeReferrals
from ctip.services.home import init_home
from ctip.settings import Settings

pytestmark = pytest.mark.slow  # two servers as child processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(home: Path, url: str, agency: str, country: str) -> tuple[ExchangeReferrals,
                                                                      Principal]:
    settings = Settings(home=home, database_url=url)
    init_home(settings)
    x = ExchangeReferrals.open(settings)
    sup = Principal(f"u-{agency}", "sup", Role.SUPERVISOR, agency)
    x.init_agency(sup, agency=agency, name=agency, country=country)
    x.init_anchor(sup, anchor_id=f"ANCHOR-{country}", country=country, name="anchor")
    x.countersign(sup, x.card(sup))
    x.publish(sup)
    return x, sup


@contextmanager
def _serve(home: Path, url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "CTIP_HOME": str(home), "CTIP_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "ctip", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(proc.stdout.read().decode() if proc.poll() is not None  # type: ignore[union-attr]
                                 else "no answer")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_referral_over_http_between_two_servers(tmp_path: Path, pg_url: str) -> None:
    url_a = f"sqlite:///{tmp_path / 'a.db'}"
    a, sa_ = _setup(tmp_path / "a", url_a, "NRM-XA", "XA")
    b, sb = _setup(tmp_path / "b", pg_url, "NRM-XB", "XB")
    from ctip.services.exchange_directory import fingerprint_of

    anchor_a = json.loads((tmp_path / "a" / "exchange" / "anchor.json").read_text())
    anchor_b = json.loads((tmp_path / "b" / "exchange" / "anchor.json").read_text())
    a.cross_sign(sa_, anchor_b, fingerprint_given=fingerprint_of(anchor_b), agreement="MoU")
    b.cross_sign(sb, anchor_a, fingerprint_given=fingerprint_of(anchor_a), agreement="MoU")
    a.import_directory(sa_, b.publish(sb))
    b.import_directory(sb, a.publish(sa_))
    case = a.casework.create_case(sa_, CaseIntake(
        sex="female", age=16, nationality="UKR", identity=Identity(given_name="Olena",
                                                                   phone="+380 1")))
    sent = a.refer_abroad(sa_, case.case_id, to_agency="NRM-XB",
                          profile_id="cross-border-return", fields=["sex", "age", "given_name"])

    with _serve(tmp_path / "a", url_a) as base_a, _serve(tmp_path / "b", pg_url) as base_b:
        got = httpx.post(f"{base_b}/api/exchange/inbox", content=sent.data, timeout=30,
                         headers={"Content-Type": "application/octet-stream"})
        assert got.status_code == 200, got.text
        assert got.headers["X-Ctip-Kind"] == "referral"
        again = httpx.post(f"{base_b}/api/exchange/inbox", content=sent.data, timeout=30)
        assert again.status_code == 422 and "replay" in again.json()["message"]
        junk = httpx.post(f"{base_b}/api/exchange/inbox", content=b"not a package", timeout=30)
        assert junk.status_code == 422 and "Traceback" not in junk.text
        receipt = httpx.post(f"{base_a}/api/exchange/inbox", content=got.content, timeout=30)
        assert receipt.status_code == 204 and receipt.headers["X-Ctip-Kind"] == "receipt"

        (item,) = b.inbox(sb)
        assert b.referral(sb, item["referral_id"])["given_name"] == "Olena"
        answer = b.answer(sb, item["referral_id"], answer="accepted")
        back = httpx.post(f"{base_a}/api/exchange/inbox", content=answer.data, timeout=30)
        assert back.status_code == 200 and back.headers["X-Ctip-Kind"] == "referral-response"

    (ref,) = a.outbox(sa_)
    assert ref["status"] == "accepted"
    (out,) = [p for p in a.packages("out") if p["package_id"] == sent.package_id]
    assert out["status"] == "receipted"
    a.engine.dispose()
    b.engine.dispose()
