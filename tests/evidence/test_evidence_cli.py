"""``ctip evidence`` and ``ctip audit`` as a user runs them, and an exported bundle checked the
way a court expert would: ``sha256sum`` and ``openssl`` alone (the steps of
docs/methods/evidence.md), with the real programs. Then tampering makes both fail."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctip.cli import app
from ctip.domain.records import Identity
from ctip.services.accounts import Accounts
from ctip.services.casework import CaseIntake, Casework
from ctip.services.home import init_home
from ctip.settings import Settings

OPENSSL = shutil.which("openssl")
SHA256SUM = shutil.which("sha256sum")


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def home(ctip_home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A ctip home with a supervisor, a case, the notary key and a local TSA."""
    settings = Settings(home=ctip_home)
    init_home(settings)
    cw = Casework.open(settings)
    accounts = Accounts.from_settings(settings, cw.engine, cw.sealer, cw.audit)
    accounts.add_user(None, "sara", "a long enough password", role="supervisor", agency="A")
    sara = accounts.principal_for("sara")
    case = cw.create_case(sara, CaseIntake(
        sex="female", age=30, nationality="NGA", languages=("en",),
        exploitation_forms=("forced_labour",), identity=Identity(given_name="Amina"))).case_id
    cw.engine.dispose()
    run("evidence", "setup", "--local-tsa")
    monkeypatch.setenv("CTIP_TSA", "local")
    return case, ctip_home


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_ingest_export_and_verify_with_openssl_alone(home: tuple[str, Path],
                                                     tmp_path: Path) -> None:
    assert OPENSSL and SHA256SUM, "openssl and sha256sum are part of the test machine"
    case, _ = home
    files = []
    for name, data in (("ledger.jpg", b"\xff\xd8\xff\xe0" + b"x" * 5000),
                       ("chat.txt", "Überweisung bestätigt\n".encode() * 50)):
        files.append(tmp_path / name)
        files[-1].write_bytes(data)
    out = run("evidence", "ingest", case, *map(str, files), "--user", "sara",
              "--source", "seized phone", "--json")
    items = json.loads(out[out.index("["):])
    assert [i["mime"] for i in items] == ["image/jpeg", "text/plain"]
    log = json.loads(run("evidence", "log", case, "--user", "sara", "--json"))
    assert [e["action"] for e in log["events"]] == ["ingest", "ingest"]
    bundle = tmp_path / "bundle"
    run("evidence", "export", case, str(bundle), "--user", "sara", "--note", "for the court")
    fingerprint = json.loads((bundle / "manifest.json").read_bytes())["locker_key"]
    assert "evidence verifies" in run("evidence", "verify", str(bundle), "--locker-key",
                                      fingerprint)
    assert "evidence verifies" in run("evidence", "verify")  # the locker itself

    # --- the court expert's steps: only sha256sum and openssl -------------------------------
    sums = subprocess.run([SHA256SUM, "-c", "SHA256SUMS"], cwd=bundle, capture_output=True,
                          text=True, check=False)
    assert sums.returncode == 0 and "FAILED" not in sums.stdout
    key = f"keys/{fingerprint}.pem"
    signed = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin", "-in",
                      "manifest.json", "-sigfile", "manifest.sig", cwd=bundle)
    assert signed.returncode == 0 and "Signature Verified Successfully" in signed.stdout
    manifest = json.loads((bundle / "manifest.json").read_bytes())
    signers = {k["key_id"]: k["file"] for k in manifest["keys"]}
    for event in manifest["events"]:
        body = json.loads((bundle / event["file"]).read_bytes())
        done = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", signers[body["key"]],
                        "-rawin", "-in", event["file"], "-sigfile", event["sig"], cwd=bundle)
        assert done.returncode == 0, done.stderr
    for item in manifest["items"]:
        done = _openssl("ts", "-verify", "-data", item["file"], "-in", item["token"],
                        "-CAfile", "tsa/ca.pem", "-untrusted", "tsa/tsa.pem", cwd=bundle)
        assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    for cp in manifest["checkpoints"]:
        done = _openssl("ts", "-verify", "-data", cp["file"], "-in", cp["token"],
                        "-CAfile", "tsa/ca.pem", "-untrusted", "tsa/tsa.pem", cwd=bundle)
        assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr

    # --- tampering: both ways of checking now fail ------------------------------------------
    victim = bundle / manifest["items"][1]["file"]
    victim.write_bytes(victim.read_bytes().replace(b"best", b"BEST", 1))
    assert subprocess.run([SHA256SUM, "-c", "--quiet", "SHA256SUMS"], cwd=bundle,
                          capture_output=True, check=False).returncode != 0
    done = _openssl("ts", "-verify", "-data", manifest["items"][1]["file"], "-in",
                    manifest["items"][1]["token"], "-CAfile", "tsa/ca.pem", "-untrusted",
                    "tsa/tsa.pem", cwd=bundle)
    assert done.returncode != 0
    assert "item.hash" in run("evidence", "verify", str(bundle), "--json", code=11)


def test_audit_checkpoint_and_verify_from_the_command_line(home: tuple[str, Path],
                                                           tmp_path: Path) -> None:
    case, ctip_home = home
    first = json.loads(run("audit", "verify", "--json"))
    assert first["ok"] and first["tagged"]
    recorded = f"{first['head_seq']}:{first['head_hash']}"
    out = run("audit", "checkpoint", "--out", str(tmp_path / "anchors"))
    anchor = next((tmp_path / "anchors").glob("*.json"))
    assert "checkpoint of entries" in out and anchor.with_suffix(".tsr").exists()
    doc = tmp_path / "doc.txt"
    doc.write_text("an intercepted message")
    run("evidence", "ingest", case, str(doc), "--user", "sara")  # more entries after the head
    later = json.loads(run("audit", "verify", "--json", "--expect-head", recorded,
                           "--anchor", str(anchor)))
    assert later["ok"] and later["checkpoints"] == 2  # stored + the file
    # an administrator cuts the log back to before the checkpoint and removes its rows
    from ctip.storage.audit import audit_tags
    from ctip.storage.engine import make_engine
    from ctip.storage.evidence import log_checkpoints
    from ctip.storage.tables import audit_log

    engine = make_engine(f"sqlite:///{ctip_home / 'ctip.db'}")
    with engine.begin() as conn:
        for table in ("audit_log", "audit_tags", "log_checkpoints"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        cut = first["head_seq"] - 1
        conn.execute(audit_tags.delete().where(audit_tags.c.seq > cut))
        conn.execute(audit_log.delete().where(audit_log.c.seq > cut))
        conn.execute(log_checkpoints.delete().where(log_checkpoints.c.log == "audit"))
    engine.dispose()
    assert json.loads(run("audit", "verify", "--json"))["ok"]  # nothing inside says otherwise
    out = " ".join(run("audit", "verify", "--anchor", str(anchor), code=1).split())
    assert "cut off" in out
    out = " ".join(run("audit", "verify", "--expect-head", recorded, code=1).split())
    assert "is not in the chain" in out
