"""Several uvicorn worker processes, each listening on a socket of its own (``SO_REUSEPORT``).

uvicorn's own ``--workers`` share one listening socket, and the worker that wakes first accepts
every connection waiting: a burst of keep-alive connections (a reverse proxy's upstream pool, a
mail provider posting one-click unsubscribes, the benchmark's eight) all land on one worker
while the other idles. Measured: 8 connections of 8 on one worker, and two workers answered no
faster than one. With a socket each, the kernel spreads new connections over the workers by
their address and port.

The supervisor (this process) does not listen: a socket nobody accepts on would still be given
connections. It starts the workers, starts again one that dies, and stops them all on Ctrl-C or
SIGTERM. Where ``SO_REUSEPORT`` does not exist, uvicorn's own workers run instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from typing import Any

import uvicorn

log = logging.getLogger("digiweetjes.web")

#: A worker that dies sooner than this after its start is failing to start, not crashing
#: under load: after a few of those in a row the supervisor gives up (and says so).
QUICK_DEATH_SECONDS = 5.0
QUICK_DEATHS_ALLOWED = 3
BACKLOG = 2048


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _worker(options: dict[str, Any]) -> None:
    """One worker process: its own socket, then uvicorn on it (uvicorn handles the signals)."""
    sock = _socket(options["host"], options["port"])
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    uvicorn.Server(uvicorn.Config(**options)).run(sockets=[sock])


class _Supervisor:
    def __init__(self, options: dict[str, Any], workers: int) -> None:
        self.options = options
        self.count = workers
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[tuple[Any, float]] = []
        self.stopping = False
        self.quick_deaths = 0

    def start(self) -> None:
        process = self.context.Process(target=_worker, args=(self.options,), daemon=False)
        process.start()
        self.processes.append((process, time.monotonic()))

    def watch(self) -> int:
        """Until stopped: keep ``count`` workers running. The exit status for the CLI."""
        for _ in range(self.count):
            self.start()
        while not self.stopping:
            time.sleep(0.2)
            for entry in list(self.processes):
                process, started = entry
                if process.is_alive() or self.stopping:
                    continue
                self.processes.remove(entry)
                quick = time.monotonic() - started < QUICK_DEATH_SECONDS
                self.quick_deaths = self.quick_deaths + 1 if quick else 0
                log.warning("web worker %s ended (exit code %s)", process.pid,
                            process.exitcode)
                if self.quick_deaths >= QUICK_DEATHS_ALLOWED:
                    self.stop()
                    return 1
                self.start()
        self.stop()
        return 0

    def ask_to_stop(self, *_signal: object) -> None:
        self.stopping = True  # the loop in ``watch`` stops the workers

    def stop(self) -> None:
        self.stopping = True
        for process, _started in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process, _started in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        self.processes.clear()


def run_workers(workers: int, **options: Any) -> int:
    """Serve with ``workers`` processes (``uvicorn.Config`` options: the app, host, port …).
    OSError when the address cannot be bound. Returns the exit status."""
    if workers == 1 or not reuse_port_available():
        uvicorn.run(workers=workers, **options)
        return 0
    _socket(options["host"], options["port"]).close()  # a clear OSError now, not in a worker
    supervisor = _Supervisor(options, workers)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, supervisor.ask_to_stop)
    return supervisor.watch()
