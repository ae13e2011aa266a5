"""`ctip users add` and `ctip serve`, run as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
from typer.testing import CliRunner

from ctip.cli import app


def _init(home) -> None:  # type: ignore[no-untyped-def]
    from ctip.services.home import init_home
    from ctip.settings import Settings

    init_home(Settings(home=home))


def test_users_add_prompts_for_password_and_shows_totp_once(ctip_home):  # type: ignore[no-untyped-def]
    _init(ctip_home)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["users", "add", "amina", "--role", "caseworker", "--agency", "NGO-1", "--json"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output[result.output.index("{") :])
    assert created["otpauth_uri"].startswith("otpauth://totp/") and created["role"] == "caseworker"
    listed = runner.invoke(app, ["users", "list", "--json"])
    assert "otpauth" not in listed.output and "secret" not in listed.output
    assert json.loads(listed.output)[0]["username"] == "amina"
    bad = runner.invoke(
        app,
        ["users", "add", "bob", "--role", "wizard", "--agency", "X"],
        input="a long enough password\na long enough password\n",
    )
    assert bad.exit_code != 0 and "role" in str(bad.exception or bad.output)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_401_to_anonymous_case_list(ctip_home):  # type: ignore[no-untyped-def]
    _init(ctip_home)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctip", "serve", "--port", str(port)],
        env={**os.environ, "CTIP_HOME": str(ctip_home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(
                proc.stdout.read().decode() if proc.poll() is not None else "no answer"
            )
        assert httpx.get(f"{base}/api/cases").status_code == 401
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "ctip"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
