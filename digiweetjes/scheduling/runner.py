"""The long-running scheduler: hold the lease or stand by; while active, run APScheduler.

``run_scheduler`` is what ``scheduler.py`` and ``digiweetjes scheduler`` call. Every
``DIGIWEETJES_SCHEDULE_RENEW_SECONDS`` it claims the lease (``scheduling.lease``). The holder runs
a BackgroundScheduler with a SQLAlchemy job store in the subscribers' database, in the
Brussels time zone: the regular check, the housekeeping, and one date job per scheduled issue
(``scheduling.jobs``). A scheduler that loses the lease stops its jobs and stands by; the
others stand by and say so. Setting ``stop`` (SIGTERM, Ctrl-C) stops a send between two
batches, shuts the jobs down, gives the lease up and returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database, open_database
from digiweetjes.errors import StorageError
from digiweetjes.providers.base import Provider
from digiweetjes.scheduling import jobs
from digiweetjes.scheduling.due import DueSends
from digiweetjes.scheduling.housekeeping import rebuild_archive
from digiweetjes.scheduling.lease import Lease, LeaseState
from digiweetjes.scheduling.regular import RegularCadence
from digiweetjes.scheduling.sender import door_sender

log = logging.getLogger("digiweetjes.scheduler")
#: APScheduler's own table in the subscribers' database.
JOBS_TABLE = "scheduler_jobs"


def make_runtime(db: Database, settings: Settings, clock: Clock, *,
                 provider_factory: Callable[[], Provider],
                 send_stop: threading.Event | None = None,
                 may_send: Callable[[], bool] = lambda: True) -> jobs.Runtime:
    """The decision steps of one scheduler process (also what the demo and tests run)."""
    send = door_sender(db, settings, clock, provider_factory=provider_factory, stop=send_stop)
    due = DueSends(db, settings, clock, send=send, may_send=may_send, stop=send_stop,
                   after_send=rebuild_archive(db, settings))
    return jobs.Runtime(db, settings, clock, due, RegularCadence(db, settings, clock),
                        provider_factory)


class ActiveScheduler:
    """APScheduler with its persistent job store, running while this process holds the lease."""

    def __init__(self, runtime: jobs.Runtime, send_stop: threading.Event) -> None:
        settings = runtime.settings
        self.send_stop = send_stop
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=runtime.db.engine,
                                                     tablename=JOBS_TABLE)},
            # One job at a time: a send is never raced by another job of this process.
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(settings.schedule.grace.total_seconds())},
            timezone=ZoneInfo(settings.timezone))
        self.runtime = runtime

    def start(self) -> None:
        now = self.runtime.clock.now()
        jobs.activate(self.runtime)
        self.scheduler.start()
        options = self.runtime.settings.schedule
        self.scheduler.add_job(f"{jobs.__name__}:check_due", "interval",
                               seconds=options.check_seconds, id=jobs.CHECK_JOB,
                               replace_existing=True, next_run_time=now)
        self.scheduler.add_job(f"{jobs.__name__}:run_housekeeping", "interval",
                               hours=options.housekeeping_hours, id=jobs.HOUSEKEEPING_JOB,
                               replace_existing=True, next_run_time=now)

    def sync(self) -> None:
        """The issues' own date jobs brought in line with the schedule in the database."""
        try:
            jobs.sync_send_jobs(self.scheduler, self.runtime.db)
        except StorageError as exc:
            log.error("taken niet bijgewerkt: %s", exc)

    def stop(self) -> None:
        """Stop the running send between batches, wait for the job, drop the runtime."""
        self.send_stop.set()
        jobs.activate(None)
        self.scheduler.shutdown(wait=True)


def run_scheduler(settings: Settings, clock: Clock, stop: threading.Event, *,
                  provider_factory: Callable[[], Provider]) -> None:
    """Run until ``stop`` is set (see the module docstring)."""
    db = open_database(settings.database_url)
    lease = Lease(db, clock, duration=settings.schedule.lease)
    log.info("planner gestart als %s (tijdzone %s, wachttijd %g uur%s)", lease.holder,
             settings.timezone, settings.schedule.grace_hours,
             f", ritme {settings.schedule.cadence.text}" if settings.schedule.cadence else "")
    active: ActiveScheduler | None = None
    told: str | None = None
    try:
        while not stop.is_set():
            state = _claim(lease)
            if state is not None and state.held:
                if active is None:
                    send_stop = threading.Event()
                    runtime = make_runtime(db, settings, clock, provider_factory=provider_factory,
                                           send_stop=send_stop, may_send=lease.holds)
                    active = ActiveScheduler(runtime, send_stop)
                    active.start()
                    told = None
                    log.info("actief: deze planner heeft de lease (%s) en voert de taken uit",
                             lease.holder)
                active.sync()
            else:
                if active is not None:
                    active.stop()
                    active = None
                    log.warning("lease verloren: deze planner stopt zijn taken en wacht")
                holder = state.holder if state is not None else "?"
                if state is not None and told != holder:
                    told = holder
                    until = state.expires_at.astimezone(ZoneInfo(settings.timezone))
                    log.info("stand-by: planner %s is actief (lease tot %s); deze neemt over "
                             "als die stopt", holder, f"{until:%H:%M:%S}")
            stop.wait(settings.schedule.renew_seconds)
    finally:
        if active is not None:
            active.stop()
            lease.release()
            log.info("gestopt: de lopende taak werd netjes afgerond en de lease vrijgegeven")
        else:
            log.info("gestopt")
        db.dispose()


def _claim(lease: Lease) -> LeaseState | None:
    try:
        return lease.claim()
    except StorageError as exc:
        # Without the database nothing can be decided; the jobs stop until it is back.
        log.error("de databank is niet bereikbaar, lease niet vernieuwd: %s", exc)
        return None
