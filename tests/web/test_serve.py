"""``ctip serve --workers 2``: every worker listens on its own socket (SO_REUSEPORT), so kept-open
connections spread over the workers instead of piling onto whichever accepted first; SIGTERM
stops the server and all its workers."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children()


def _established(worker: psutil.Process, port: int) -> int:
    """Established connections the worker holds on ``port``."""
    return sum(1 for c in worker.net_connections(kind="tcp")
               if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port)


@pytest.mark.slow  # two real server processes
def test_two_workers_share_kept_open_connections_and_stop_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "CTIP_HOME": str(home)}
    env.pop("CTIP_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "ctip", "init"], env=env, check=True,
                   capture_output=True)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "ctip", "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    connections: list[http.client.HTTPConnection] = []
    try:
        deadline = time.monotonic() + 60
        while len(_workers(server.pid)) < 2 or not _answers(port):
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "ctip serve did not start"
            time.sleep(0.3)
        time.sleep(2)  # both workers listening (the first answer may come from one alone)
        for _ in range(40):  # opened at once and kept open, like a load test's users
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert response.status == 200 and response.read() == b'{"status":"ok"}'
            assert response.getheader("X-Frame-Options") == "DENY"
            connections.append(conn)
        per_worker = {w.pid: _established(w, port) for w in _workers(server.pid)}
        per_worker = {pid: n for pid, n in per_worker.items() if n}
        assert sum(per_worker.values()) == 40, per_worker
        assert len(per_worker) == 2 and min(per_worker.values()) >= 5, per_worker
    finally:
        for conn in connections:
            conn.close()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False
