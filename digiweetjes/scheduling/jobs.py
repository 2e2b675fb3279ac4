"""The APScheduler jobs, referenced by name in the persistent job store, and what they reach.

APScheduler stores a job as ``module:function`` and its arguments, so the jobs are these
module-level functions; the active scheduler hands them its ``Runtime`` (database, settings,
clock, the decision steps) through ``activate``. A job of a scheduler that is no longer active
finds no runtime and does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import DigiweetjesError
from digiweetjes.models import IssueState
from digiweetjes.providers.base import Provider
from digiweetjes.release.records import releases_in
from digiweetjes.scheduling.due import Decision, DueSends
from digiweetjes.scheduling.housekeeping import housekeeping
from digiweetjes.scheduling.regular import RegularCadence

log = logging.getLogger("digiweetjes.scheduler")

CHECK_JOB = "check"
HOUSEKEEPING_JOB = "housekeeping"
SEND_JOB_PREFIX = "send:"


@dataclass
class Runtime:
    """What the jobs of the active scheduler work with."""

    db: Database
    settings: Settings
    clock: Clock
    due: DueSends
    regular: RegularCadence
    provider_factory: Callable[[], Provider]
    #: One decision step at a time, whichever job started it.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> list[Decision]:
        """The cadence, then every due send."""
        with self.lock:
            decisions: list[Decision] = []
            found = self.regular.run()
            if found is not None:
                decisions.append(found)
            decisions += self.due.run()
            return decisions


_runtime: Runtime | None = None


def activate(runtime: Runtime | None) -> None:
    """Make ``runtime`` the one the jobs use (None: this process is no longer active)."""
    global _runtime
    _runtime = runtime


def check_due() -> None:
    """The regular check (every ``DIGIWEETJES_SCHEDULE_CHECK_SECONDS``)."""
    _guarded(lambda runtime: runtime.check())


def send_due(issue_id: str) -> None:
    """An issue's own job at its ``send_at``: the same check, right on time."""
    log.debug("job of %s", issue_id)
    _guarded(lambda runtime: runtime.check())


def run_housekeeping() -> None:
    """The chores (every ``DIGIWEETJES_SCHEDULE_HOUSEKEEPING_HOURS``, and at activation)."""
    def chores(runtime: Runtime) -> None:
        with runtime.lock:
            housekeeping(runtime.db, runtime.settings, runtime.clock, runtime.due,
                         provider_factory=runtime.provider_factory)
    _guarded(chores)


def _guarded(work: Callable[[Runtime], object]) -> None:
    runtime = _runtime
    if runtime is None:
        return
    try:
        work(runtime)
    except DigiweetjesError as exc:  # the next run tries again; the scheduler keeps going
        log.error("fout: %s", exc)


def sync_send_jobs(scheduler: Any, db: Database) -> None:
    """One date job per scheduled issue at its ``send_at``; jobs of others removed.

    Called by the runner's own thread, never from a job: APScheduler's shutdown holds the job
    store lock while it waits for the running job, which would then wait for that lock.
    """
    wanted = {f"{SEND_JOB_PREFIX}{r.issue_id}": r for r in releases_in(db, {IssueState.SCHEDULED})
              if r.send_at is not None}
    for job in scheduler.get_jobs():
        if job.id.startswith(SEND_JOB_PREFIX) and job.id not in wanted:
            job.remove()
    for job_id, release in wanted.items():
        job = scheduler.get_job(job_id)
        if job is not None and job.next_run_time == release.send_at:
            continue
        scheduler.add_job(f"{__name__}:send_due", "date", run_date=release.send_at,
                          args=[release.issue_id], id=job_id, replace_existing=True)
