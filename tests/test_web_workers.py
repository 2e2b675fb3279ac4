"""``digiweetjes serve --workers N``: a socket per worker (SO_REUSEPORT), supervised.

Real processes on loopback. Which worker holds a connection is read from ``/proc`` (Linux).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from digiweetjes.db import Database
from digiweetjes.devtools.processes import stop_process
from tests.live_server import free_port, live_environment

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists() or
                                not hasattr(socket, "SO_REUSEPORT"),
                                reason="needs Linux's /proc and SO_REUSEPORT")

SECRET = "workers-test-secret-0123456789abcdef"


def _environment(root: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIWEETJES_")}
    env.update(live_environment(root, port, SECRET))
    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    db.upgrade()
    db.dispose()
    return env


def _serve(root: Path, port: int, workers: int = 2) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "digiweetjes", "serve", "--no-build", "--port", str(port),
         "--workers", str(workers)], env=_environment(root, port), text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _children(pid: int) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in command:
                found.add(int(entry.name))
    return found


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    server = _serve(tmp_path, port)
    try:
        _wait_for(lambda: _healthy(port) and len(_children(server.pid)) == 2,
                  "two healthy workers")
        yield server, port
    finally:
        stop_process(server, grace=30)


def _established_by_pid(port: int, pids: set[int]) -> dict[int, int]:
    """How many established connections to ``port`` each of ``pids`` holds."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # ESTABLISHED
            inodes.add(fields[9])
    counts = {}
    for pid in pids:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held += 1
        counts[pid] = held
    return counts


def _load(port: int, requests: list[bytes], *, concurrency: int):
    """``run_load`` on a thread of its own: asyncio.run needs a thread without a running loop
    (Playwright's sync API, used by other tests of the session, leaves one on the main thread).
    Its result, or its exception raised here."""
    from digiweetjes.devtools.loadgen import run_load

    outcome: list[object] = []

    def load() -> None:
        try:
            outcome.append(run_load("127.0.0.1", port, requests, concurrency=concurrency,
                                    expect=200))
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=load)
    thread.start()
    thread.join(timeout=300)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def test_connections_are_spread_over_the_workers(tmp_path: Path) -> None:
    """uvicorn's own --workers gave all eight keep-alive connections of a burst to one."""
    with _running(tmp_path) as (server, port):
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        try:
            for connection in connections:  # each answered on its own keep-alive connection
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                assert connection.recv(4096).startswith(b"HTTP/1.1 200")
            counts = _established_by_pid(port, _children(server.pid))
        finally:
            for connection in connections:
                connection.close()
    assert sum(counts.values()) == 16
    assert all(held >= 1 for held in counts.values()), counts


def test_a_worker_that_dies_is_started_again_and_sigterm_stops_all(tmp_path: Path) -> None:
    with _running(tmp_path) as (server, port):
        first = _children(server.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: len(_children(server.pid)) == 2 and victim not in
                  _children(server.pid), "a new worker")
        _wait_for(lambda: _healthy(port), "answers again")
        workers = _children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() and "Z" not in
                       Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
                       for pid in workers)
    assert not _healthy(port)


def test_a_port_in_use_is_a_dutch_error_without_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = _serve(tmp_path, port)
        out, err = server.communicate(timeout=60)
    assert server.returncode != 0
    assert f"Fout: de webapp kan niet starten op 127.0.0.1:{port}" in err
    assert "Traceback" not in err + out


def test_a_worker_killed_under_one_click_load_leaves_the_ledger_whole(tmp_path: Path) -> None:
    """SIGKILL in the middle of batched one-click transactions: a request is either stored
    whole (status, ledger line, suppression) or not at all, and its retry then stores it."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from digiweetjes.config import Secret, Settings
    from digiweetjes.devtools.loadgen import form_post
    from digiweetjes.devtools.synthetic import insert_subscribers, synthetic_email
    from digiweetjes.sending.recipient_links import LinkSigner
    from digiweetjes.subscribers.hashing import Hasher
    from digiweetjes.subscribers.tokens import Purpose

    readers = 3000
    settings = Settings(secret_key=Secret(SECRET))
    url = f"sqlite:///{tmp_path / 'subscribers.db'}"
    with _running(tmp_path) as (server, port):
        db = Database(url)
        now = datetime.now(UTC)
        insert_subscribers(db, settings, readers, now - timedelta(days=30),
                           domain="leaving.example.be")
        signer, hasher = LinkSigner(settings, now), Hasher(settings)
        requests = [form_post(f"127.0.0.1:{port}", "/uitschrijven/" + signer.token(
            Purpose.UNSUBSCRIBE, hasher.email(synthetic_email(i, "leaving.example.be"))),
            b"List-Unsubscribe=One-Click") for i in range(readers)]
        def kill_the_busier_worker() -> None:
            held = _established_by_pid(port, _children(server.pid))
            os.kill(max(held, key=held.__getitem__), signal.SIGKILL)

        killer = threading.Timer(0.5, kill_the_busier_worker)
        killer.start()
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            _load(port, requests, concurrency=8)
        killer.join()
        _wait_for(lambda: len(_children(server.pid)) == 2 and _healthy(port),
                  "a new worker that answers")
        with db.session() as session:
            def count(sql: str) -> int:
                return int(session.execute(text(sql)).scalar() or 0)

            left = count("SELECT count(*) FROM subscribers WHERE status = 'unsubscribed'")
            assert 0 < left < readers  # the kill came in the middle of the run
            assert count("SELECT count(*) FROM consent_events WHERE event = 'unsubscribed'") \
                == left
            assert count("SELECT count(*) FROM suppressions") == left
        # What the mail providers do with an answer they did not get: post it again.
        retried = _load(port, requests, concurrency=4)
        assert retried.unexpected == {}
        with db.session() as session:
            assert [session.execute(text(sql)).scalar() for sql in (
                "SELECT count(*) FROM subscribers WHERE status = 'unsubscribed'",
                "SELECT count(*) FROM consent_events WHERE event = 'unsubscribed'",
                "SELECT count(*) FROM suppressions",
                "PRAGMA integrity_check")] == [readers, readers, readers, "ok"]
        db.dispose()
