"""Exactly one active scheduler: a lease row in the database, taken over only once expired.

Every scheduler calls ``Lease.claim`` every few seconds (``DIGIWEETJES_SCHEDULE_RENEW_SECONDS``).
The holder's claim renews the lease; anyone else's succeeds only when the lease has expired
(``DIGIWEETJES_SCHEDULE_LEASE_SECONDS`` after its last renewal), so a scheduler killed with
SIGKILL is replaced within one lease and one renewal interval. The claim is one conditional
UPDATE (or the first INSERT) in one transaction: on SQLite writers are serialised, on
PostgreSQL the row lock makes the second UPDATE re-check its WHERE after the first commits, so
two claimers never both win. Expiry is judged by the claimers' clocks, which on several
machines must be kept in step (NTP) to well within a lease.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from digiweetjes.clock import Clock
from digiweetjes.db import Database
from digiweetjes.models import SchedulerLease

LEASE_NAME = "scheduler"


def new_holder() -> str:
    """This process's name on the lease: ``host:pid:nonce`` (the nonce tells restarts apart)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class LeaseState:
    """The lease after a claim: whether we hold it, and who does until when."""

    held: bool
    holder: str
    expires_at: datetime


class Lease:
    """The scheduler lease as seen by one scheduler process (``holder``)."""

    def __init__(self, db: Database, clock: Clock, *, duration: timedelta,
                 holder: str | None = None, name: str = LEASE_NAME) -> None:
        self.db = db
        self.clock = clock
        self.duration = duration
        self.holder = holder or new_holder()
        self.name = name

    def claim(self) -> LeaseState:
        """Renew the lease if we hold it, take it if it expired or never existed."""
        now = self.clock.now()
        until = now + self.duration
        row = SchedulerLease.__table__.c
        with self.db.session() as session:
            taken = session.execute(
                update(SchedulerLease)
                .where(row.name == self.name,
                       or_(row.holder == self.holder, row.expires_at <= now))
                .values(holder=self.holder, expires_at=until, renewed_at=now,
                        acquired_at=case((row.holder == self.holder, row.acquired_at),
                                         else_=now))
                .execution_options(synchronize_session=False))
            if taken.rowcount == 1:
                return LeaseState(True, self.holder, until)
            current = session.execute(
                select(row.holder, row.expires_at).where(row.name == self.name)).first()
            if current is None:
                try:
                    with session.begin_nested():
                        session.add(SchedulerLease(name=self.name, holder=self.holder,
                                                   expires_at=until, acquired_at=now,
                                                   renewed_at=now))
                except IntegrityError:  # another scheduler inserted it first
                    current = session.execute(
                        select(row.holder, row.expires_at).where(row.name == self.name)).one()
                else:
                    return LeaseState(True, self.holder, until)
            return LeaseState(False, current.holder, current.expires_at)

    def holds(self) -> bool:
        """Whether we hold an unexpired lease now (checked before each send)."""
        row = SchedulerLease.__table__.c
        with self.db.session() as session:
            found = session.execute(
                select(row.holder, row.expires_at).where(row.name == self.name)).first()
        return found is not None and found.holder == self.holder and \
            found.expires_at > self.clock.now()

    def release(self) -> None:
        """Give the lease up at once (a clean stop), so a standby scheduler need not wait."""
        row = SchedulerLease.__table__.c
        with self.db.session() as session:
            session.execute(
                update(SchedulerLease)
                .where(row.name == self.name, row.holder == self.holder)
                .values(expires_at=self.clock.now())
                .execution_options(synchronize_session=False))
