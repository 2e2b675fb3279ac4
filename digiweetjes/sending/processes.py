"""Sending from several processes at once: each runs the worker threads of an engine of its own.

Building requests (personalizing, encoding JSON) holds Python's GIL, so past one core more
threads add nothing; several processes claiming from one ledger is what the ledger is for. Each
child builds its engine through the factory it is given, after the fork: its own database
connections, provider client, worker id and share of the hourly quota (the request rate is
one budget in the database for all of them, ``sending.rate_budget``). It dies with the parent
(``PR_SET_PDEATHSIG``), so ``kill -9`` of ``send`` stops them all and a resumed run recovers
their batches like any stopped worker's. One stop flag is shared: a pause in any process stops
them all.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any, Protocol

from digiweetjes.db import Database
from digiweetjes.errors import DigiweetjesError, SendingError, StorageError
from digiweetjes.sending import campaigns
from digiweetjes.sending.campaigns import CampaignInfo
from digiweetjes.sending.progress import Progress
from digiweetjes.sending.summary import WorkReport

_PR_SET_PDEATHSIG = 1


class StopFlag(Protocol):
    """A flag every worker of one send watches (a threading or multiprocessing Event)."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


class Worker(Protocol):
    """What a sending process runs: worker threads on one campaign, then a report."""

    def work(self, campaign: CampaignInfo) -> WorkReport: ...

    def close(self) -> None: ...


class WorkerFactory(Protocol):
    def __call__(self, *, stop: StopFlag, share: int) -> Worker: ...


def run_in_processes(factory: WorkerFactory, campaign: CampaignInfo, count: int, *,
                     db: Database, progress: Progress | None,
                     redact: Callable[[str], str]) -> WorkReport:
    """Run ``count`` forked processes, each ``factory(stop=…, share=count).work(campaign)``;
    their reports added up. ``db`` (the parent's) only watches the progress."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    parent = os.getpid()
    children: list[tuple[Any, Connection]] = []
    for _ in range(count):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child_main,
                                args=(factory, campaign, stop, count, db, sender, parent,
                                      redact),
                                daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    if progress:
        progress.start(total=campaign.audience_size, done=_done(db, campaign) or 0)
    try:
        while any(child.is_alive() for child, _ in children):
            for child, _ in children:
                child.join(timeout=1.0 / count)
            _show(progress, db, campaign)
    finally:
        if progress:
            _show(progress, db, campaign)
            progress.stop()
    total = WorkReport()
    errors = []
    for child, receiver in children:
        report = receiver.recv() if receiver.poll() else None
        receiver.close()
        if report is None:
            errors.append(f"een verzendproces stopte (code {child.exitcode}) zonder verslag")
            continue
        error = report.pop("error")
        total.add(WorkReport(**report))
        if error and error not in errors:
            errors.append(error)
    if errors:
        # Every process usually meets the same cause (a database gone): say it once.
        raise SendingError("; ".join(errors))
    return total


def _done(db: Database, campaign: CampaignInfo) -> int | None:
    """Recipients finished so far, or None while the database cannot say: watching progress
    must never stop the send (the children retry, stop and report database errors)."""
    try:
        queued, sending = campaigns.open_counts(db, campaign.id)
    except StorageError:
        return None
    return campaign.audience_size - queued - sending


def _show(progress: Progress | None, db: Database, campaign: CampaignInfo) -> None:
    if progress is None:
        return
    done = _done(db, campaign)
    if done is not None:
        progress.update(done)


def _die_with(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _child_main(factory: WorkerFactory, campaign: CampaignInfo, stop: StopFlag, count: int,
                db: Database, sender: Connection, parent: int,
                redact: Callable[[str], str]) -> None:
    report: dict[str, Any] = {**asdict(WorkReport()), "error": None}
    worker: Worker | None = None
    try:
        _die_with(parent)
        # The parent's pooled connections stay the parent's: the factory opens this process's.
        db.engine.dispose(close=False)
        worker = factory(stop=stop, share=count)
        report.update(asdict(worker.work(campaign)))
    except BaseException as exc:
        # Our own errors already say what happened; anything else is a bug, named as such.
        text = str(exc) if isinstance(exc, DigiweetjesError) else \
            f"een verzendproces stopte door een fout in het programma ({type(exc).__name__}: {exc})"
        report["error"] = redact(text)
    finally:
        with contextlib.suppress(Exception):
            sender.send(report)
            sender.close()
        if worker is not None:
            with contextlib.suppress(Exception):
                worker.close()
        time.sleep(0)
        os._exit(0)
