"""``ctip exchange`` as two operators run it on two homes, moving only files between them:
set up keys and anchors, cross-sign after reading fingerprints, refer a case, answer it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctip.cli import app
from ctip.domain.records import Identity
from ctip.errors import CtipError
from ctip.services.accounts import Accounts
from ctip.services.casework import CaseIntake, Casework
from ctip.services.home import init_home
from ctip.settings import Settings


def run(home: Path, mp: pytest.MonkeyPatch, *args: str, code: int = 0) -> str:
    """One command; a CtipError is rendered as ``ctip.cli.main`` renders it (its message and
    exit code, no traceback)."""
    mp.setenv("CTIP_HOME", str(home))
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, CtipError):
        assert result.exception.exit_code == code, str(result.exception)
        return str(result.exception)
    assert result.exit_code == code, result.output
    return result.output


def _home(root: Path, mp: pytest.MonkeyPatch, agency: str, country: str) -> tuple[Path, str]:
    home = root / agency
    settings = Settings(home=home)
    init_home(settings)
    cw = Casework.open(settings)
    accounts = Accounts.from_settings(settings, cw.engine, cw.sealer, cw.audit)
    accounts.add_user(None, "sup", "a long enough password", role="supervisor", agency=agency)
    sup = accounts.principal_for("sup")
    case = cw.create_case(sup, CaseIntake(
        sex="male", age=31, nationality="VNM", languages=("vi",),
        exploitation_forms=("forced_labour",),
        identity=Identity(given_name="Minh", family_name="Tran", phone="+84 1"))).case_id
    cw.record_consent(sup, case, purpose="durable_solution")
    cw.engine.dispose()
    u = ("--user", "sup")
    run(home, mp, "exchange", "keys", "init", *u, "--agency", agency, "--name", agency,
        "--country", country)
    out = run(home, mp, "exchange", "directory", "anchor-init", str(root / f"{country}.json"),
              *u, "--id", f"ANCHOR-{country}", "--country", country, "--name", "anchor")
    assert "fingerprint" in out
    run(home, mp, "exchange", "keys", "card", str(root / f"{agency}-card.json"), *u)
    run(home, mp, "exchange", "directory", "countersign", str(root / f"{agency}-card.json"), *u)
    return home, case


def test_two_operators_refer_and_answer_with_files_only(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    mp, u = monkeypatch, ("--user", "sup")
    for var in ("CTIP_DATABASE_URL", "CTIP_KEY_FILE", "CTIP_PSEUDONYM_KEY_FILE", "CTIP_SEAL_KEY",
                "CTIP_PSEUDONYM_KEY"):
        mp.delenv(var, raising=False)
    a, case = _home(tmp_path, mp, "NRM-XA", "XA")
    b, _ = _home(tmp_path, mp, "NRM-XB", "XB")
    fp_a = run(a, mp, "exchange", "directory", "fingerprint", str(tmp_path / "XA.json")).strip()
    fp_b = run(b, mp, "exchange", "directory", "fingerprint", str(tmp_path / "XB.json")).strip()

    # a wrong fingerprint read on the phone: refused, nothing trusted
    wrong = run(a, mp, "exchange", "directory", "cross-sign", str(tmp_path / "XB.json"),
                str(tmp_path / "x.json"), *u, "--fingerprint", "1" * 60, "--agreement", "MoU",
                code=12)
    assert "does not match" in wrong and "Traceback" not in wrong
    run(a, mp, "exchange", "directory", "cross-sign", str(tmp_path / "XB.json"),
        str(tmp_path / "a-trusts-b.json"), *u, "--fingerprint", fp_b, "--agreement", "MoU 1")
    run(b, mp, "exchange", "directory", "cross-sign", str(tmp_path / "XA.json"),
        str(tmp_path / "b-trusts-a.json"), *u, "--fingerprint", fp_a, "--agreement", "MoU 1")
    run(a, mp, "exchange", "directory", "publish", str(tmp_path / "dir-a.json"), *u)
    run(b, mp, "exchange", "directory", "publish", str(tmp_path / "dir-b.json"), *u)
    run(a, mp, "exchange", "directory", "import", str(tmp_path / "dir-b.json"), *u)
    run(b, mp, "exchange", "directory", "import", str(tmp_path / "dir-a.json"), *u)

    out_a, out_b = tmp_path / "out-a", tmp_path / "out-b"
    run(a, mp, "exchange", "refer", case, *u, "--to", "NRM-XB", "--field", "sex",
        "--field", "given_name", "--field", "family_name", "--need", "safe_return",
        "--out", str(out_a))
    (package,) = out_a.glob("*.ctipx")
    run(b, mp, "exchange", "receive", str(package), *u, "--out", str(out_b))
    again = run(b, mp, "exchange", "receive", str(package), *u, "--out", str(out_b), code=12)
    assert "replay" in again
    (item,) = json.loads(run(b, mp, "exchange", "inbox", *u, "--json"))
    shared = json.loads(run(b, mp, "exchange", "show", item["referral_id"], *u))
    assert shared["family_name"] == "Tran" and "phone" not in shared
    run(b, mp, "exchange", "answer", item["referral_id"], *u, "--answer", "accepted",
        "--out", str(out_b))
    for reply in sorted(out_b.glob("*.ctipx")):
        run(a, mp, "exchange", "receive", str(reply), *u, "--out", str(out_a))
    sent = [p for p in json.loads(run(a, mp, "exchange", "packages", *u, "--json"))
            if p["package_id"] == package.stem]
    assert sent[0]["status"] == "receipted"
    shown = json.loads(run(a, mp, "exchange", "directory", "show", *u, "--json"))
    assert {t["anchor"] for t in shown["trust"]} == {"ANCHOR-XA", "ANCHOR-XB"}

    # statistics as ctip publish wrote them, and FtM findings: sent, received, files written
    import pandas as pd

    from ctip.finflows.ftm import to_lines
    from ctip.publish.exports.sdmx import write_sdmx_csv

    sdmx = tmp_path / "sdg.sdmx.csv"
    write_sdmx_csv(sdmx, pd.DataFrame({"year": [2025], "ref_area": ["VNM"],
                                       "series": ["VC_HTF_DETVML"], "sex": ["M"], "age": ["_T"],
                                       "count": [12], "suppressed": [False]}))
    ftm = tmp_path / "findings.ftm.ndjson"
    ftm.write_text(to_lines([{"id": "c-1", "schema": "Company",
                              "properties": {"name": ["Fishing Co"], "country": ["th"]}}]))
    for command, path in (("send-statistics", sdmx), ("send-findings", ftm)):
        out = tmp_path / command
        run(a, mp, "exchange", command, str(path), *u, "--to", "NRM-XB", "--out", str(out))
        (package,) = out.glob("*.ctipx")
        shown = run(b, mp, "exchange", "receive", str(package), *u, "--out", str(out_b))
        assert package.stem in shown
        run(b, mp, "exchange", "files", package.stem, *u, "--out", str(out / "files"))
        (written,) = (out / "files").iterdir()
        assert written.read_bytes() == path.read_bytes()
