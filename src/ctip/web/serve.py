"""Running the web app in several worker processes, each with its own listening socket.

Why not uvicorn's own ``--workers``: it binds one socket and every worker accepts from it. The
worker that wakes first accepts every connection waiting (asyncio accepts up to the backlog in
one go), and clients that keep their connections open (browsers, reverse proxies, load tests)
then stay on it: under 50 users one worker was measured doing three times the work of the other
while requests queued behind it. Here each worker binds its own socket to the same address with
``SO_REUSEPORT``, and the kernel spreads new connections evenly over the workers.

The parent process only supervises: it binds the address first (so a port in use fails at once
with a clear error, and port 0 picks one port for all workers), starts the workers, restarts one
that dies, and on SIGTERM or SIGINT stops them all (each finishes its requests in flight, as
uvicorn does on SIGTERM). Only processes of the same user can join a ``SO_REUSEPORT`` group on
Linux. Where the option does not exist, uvicorn's shared socket is used.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from typing import Any

APP = "ctip.web.app:create_app"
BACKLOG = 2048  # uvicorn's default
STOP_SECONDS = 30


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock  # bound, not listening: the kernel sends connections only to listening sockets


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    # uvicorn builds the app (migrations, keys, templates) and only then starts serving, which
    # is when the socket starts listening: no connection waits on a worker still starting
    sock = _bind(host, port)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, backlog=BACKLOG, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the app factory on ``host:port`` with ``workers`` processes (see module doc)."""
    import uvicorn

    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)
        return
    # bound, never listening: holds the port for the workers (and chooses it when port is 0)
    anchor = _bind(host, port)
    port = int(anchor.getsockname()[1])
    ctx = multiprocessing.get_context("spawn")

    def start() -> multiprocessing.process.BaseProcess:
        process = ctx.Process(target=_worker, args=(host, port, options), name="ctip-web")
        process.start()
        return process

    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping:
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    processes[i] = start()  # a crashed worker is replaced
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes requests in flight
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        anchor.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
