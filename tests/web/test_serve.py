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

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads connections from /proc (Linux)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established connections whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def _sockets_of(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


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
        while len(_children(server.pid)) < 2 or not _answers(port):
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
        live = _established_inodes(port)
        per_worker = {pid: len(_sockets_of(pid) & live) for pid in _children(server.pid)}
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
