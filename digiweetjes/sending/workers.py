"""Who is sending: worker ids, and whether the worker that holds a batch has certainly stopped.

A worker id is ``host:pid:nonce``. On the same host a stopped process can be seen (its pid is
gone, or is a zombie nobody reaped, or is our own pid under another nonce); a worker on another
machine can only be judged by its lease, which the ledger keeps.
"""

from __future__ import annotations

import os
import socket
import uuid


def new_worker_id() -> str:
    """``host:pid:nonce``: the host and pid let a restart on the same machine see a dead worker."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def worker_is_dead(worker_id: str | None, me: str) -> bool:
    """True when ``worker_id`` certainly stopped (same host, process gone or pid reused by us)."""
    if not worker_id:
        return True
    try:
        host, pid_text, _nonce = worker_id.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    my_host, my_pid, _ = me.rsplit(":", 2)
    if host != my_host:
        return False  # another machine: only the lease can tell
    if worker_id == me:
        return False
    if pid == int(my_pid):
        return True  # our pid, another nonce: a previous process whose pid we inherited
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process nobody has reaped yet (its parent died too) still answers kill(0)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False
