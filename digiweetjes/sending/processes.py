"""Sending from several processes at once: the engine's workers in forked children.

Building requests (personalizing, encoding JSON) holds Python's GIL, so past one core more
threads add nothing; several processes claiming from one ledger is what the ledger is for. Each
child gets its own database connections, provider client, worker id and share of the rate
limits; it dies with the parent (``PR_SET_PDEATHSIG``), so ``kill -9`` of ``send`` stops them
all and a resumed run recovers their batches like any dead worker's.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from digiweetjes.db import Database
from digiweetjes.errors import SendingError
from digiweetjes.sending import ledger
from digiweetjes.sending.ratelimit import RateLimiter

if TYPE_CHECKING:
    from digiweetjes.sending.engine import SendEngine

COUNTERS = ("requests", "retries", "sent", "failed", "uncertain", "suppressed")
_PR_SET_PDEATHSIG = 1


def run_in_processes(engine: SendEngine, count: int) -> None:
    """Run ``engine``'s workers in ``count`` forked children; merge what they did."""
    context = multiprocessing.get_context("fork")
    engine._shared_stop = context.Event()
    parent = os.getpid()
    children: list[tuple[Any, Connection]] = []
    for _ in range(count):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child_main, args=(engine, sender, parent, count),
                                daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    if engine.progress:
        engine.progress.start(total=engine.campaign.audience_size, done=_done(engine))
    try:
        while any(child.is_alive() for child, _ in children):
            for child, _ in children:
                child.join(timeout=1.0 / count)
            if engine.progress:
                engine.progress.update(_done(engine))
    finally:
        if engine.progress:
            engine.progress.update(_done(engine))
            engine.progress.stop()
    errors = []
    for child, receiver in children:
        report = receiver.recv() if receiver.poll() else None
        receiver.close()
        if report is None:
            errors.append(f"a sending process ended with code {child.exitcode} and no report")
            continue
        for name in COUNTERS:
            setattr(engine.summary, name, getattr(engine.summary, name) + report[name])
        if report["paused"] and not engine.summary.paused_reason:
            engine.summary.paused_reason = report["paused"]
        if report["error"]:
            errors.append(report["error"])
    if errors:
        raise SendingError("sending stopped: " + "; ".join(errors))


def _done(engine: SendEngine) -> int:
    queued, sending = ledger.open_counts(engine.db, engine.campaign.id)
    return engine.campaign.audience_size - queued - sending


def _die_with(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _child_main(engine: SendEngine, sender: Connection, parent: int, count: int) -> None:
    report: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
    report.update(paused=None, error=None)
    try:
        _die_with(parent)
        # The parent's pooled connections stay the parent's: this process opens its own.
        engine.db.engine.dispose(close=False)
        engine.db = Database(engine.db.url)
        assert engine.provider_factory is not None
        engine.provider = engine.provider_factory()
        engine.worker_id = ledger.new_worker_id()
        engine.ledger = ledger.Ledger(engine.db, engine.campaign.id, engine.worker_id)
        engine.progress = None
        engine._lock = threading.Lock()
        engine._stop = threading.Event()
        engine._error = None
        options = engine.options
        engine.limiter = RateLimiter(
            None if options.requests_per_second is None else options.requests_per_second / count,
            None if options.messages_per_hour is None else max(1, options.messages_per_hour
                                                                // count),
            monotonic=engine.monotonic, sleep=engine.sleep)
        engine._run_workers()
        for name in COUNTERS:
            report[name] = getattr(engine.summary, name)
        report["paused"] = engine.summary.paused_reason
        if engine._error is not None:
            report["error"] = engine.redact(f"{type(engine._error).__name__}: {engine._error}")
    except BaseException as exc:
        report["error"] = engine.redact(f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            sender.send(report)
            sender.close()
        with contextlib.suppress(Exception):
            engine.provider.close()
            engine.db.dispose()
        time.sleep(0)
        os._exit(0)
