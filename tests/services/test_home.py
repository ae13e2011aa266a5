"""`ctip init`, `ctip keys`, `ctip audit verify` through the real CLI (Typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from ctip.cli import app
from ctip.storage.keys import load_ring

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_init_twice_is_safe(ctip_home: Path) -> None:
    first = _run("init", "--json")
    assert first.exit_code == 0, first.output
    created = json.loads(first.stdout)["created"]
    assert len(created) == 4 and json.loads(first.stdout)["existing"] == []
    seal = (ctip_home / "keys" / "seal.key").read_bytes()
    pseudo = (ctip_home / "keys" / "pseudonym.key").read_bytes()
    assert ctip_home.stat().st_mode & 0o777 == 0o700
    for path in (ctip_home / "keys" / "seal.key", ctip_home / "keys" / "pseudonym.key",
                 ctip_home / "ctip.db"):
        assert path.stat().st_mode & 0o777 == 0o600, path

    second = _run("init", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["created"] == []
    assert len(json.loads(second.stdout)["existing"]) == 4
    # keys untouched, database still migrated and usable
    assert (ctip_home / "keys" / "seal.key").read_bytes() == seal
    assert (ctip_home / "keys" / "pseudonym.key").read_bytes() == pseudo
    engine = sa.create_engine(f"sqlite:///{ctip_home / 'ctip.db'}")
    assert "victims" in sa.inspect(engine).get_table_names()
    engine.dispose()
    text = _run("init")
    assert text.exit_code == 0 and "kept" in text.stdout


def test_keys_init_then_rotate(ctip_home: Path) -> None:
    assert _run("keys", "init").exit_code == 0
    old = load_ring(ctip_home / "keys" / "seal.key").active
    assert _run("init").exit_code == 0
    rotated = _run("keys", "rotate", "--json")
    assert rotated.exit_code == 0, rotated.output
    report = json.loads(rotated.stdout)
    assert report["retired_key_ids"] == [old]
    assert load_ring(ctip_home / "keys" / "seal.key").active == report["new_key_id"]


def test_audit_verify_exit_codes(ctip_home: Path) -> None:
    assert _run("init").exit_code == 0
    assert _run("keys", "rotate").exit_code == 0  # writes audit entries
    ok = _run("audit", "verify", "--json")
    assert ok.exit_code == 0
    result = json.loads(ok.stdout)
    assert result["ok"] and result["entries"] >= 2
    head = f"{result['head_seq']}:{result['head_hash']}"
    assert _run("audit", "verify", "--expect-head", head).exit_code == 0

    engine = sa.create_engine(f"sqlite:///{ctip_home / 'ctip.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.exec_driver_sql("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
    engine.dispose()
    bad = _run("audit", "verify")
    assert bad.exit_code == 1
    assert "entry 2" in bad.output
    bad_json = _run("audit", "verify", "--json")
    assert bad_json.exit_code == 1 and json.loads(bad_json.stdout)["first_bad"] == 2


def test_audit_verify_before_init_says_what_to_do(ctip_home: Path) -> None:
    from ctip.errors import ConfigurationError

    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigurationError)
    assert "ctip init" in str(result.exception)
