"""Deliver: an issue sent to its frozen audience exactly once, through a mail provider.

``service.send_issue`` is the one door (plan → confirm → freeze the audience or resume → run →
summary); the CLI, the demo and the benchmarks call it, and so will the scheduler and the web
app. Behind it:

- ``campaigns``: a campaign and its deliveries as a whole (freeze, counts, pause, finish);
- ``ledger``: the only code that moves a delivery (claim, record, requeue, recover);
- ``engine``: one process's worker threads (personalize, rate-limit, send, record, brake);
- ``processes``: several sending processes, each an engine built by a factory;
- ``workers``: worker ids and whether a worker has stopped; ``options``, ``summary``,
  ``progress`` (the protocol a watcher implements), ``ratelimit``, ``backoff``,
  ``recipient_links``, ``redaction``, ``memory``.

The door's names load on first use: ``config`` reads ``options`` from this package, and the
service reads ``config``, so an eager import here would be a cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Plan", "SendOutcome", "send_issue"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from digiweetjes.sending import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
