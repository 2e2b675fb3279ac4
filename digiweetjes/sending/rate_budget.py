"""Where a provider account's pace is kept: in this process, or in the database for everyone.

``SharedBudget`` keeps the ``Pace`` (``sending.pace``) of a provider in its ``send_rates`` row,
so every worker of a send (``--processes``, other machines on one PostgreSQL ledger) takes its
request slots from one budget and the provider sees at most the rate, whoever sends. Each slot
is one short transaction: the row locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
first statement is a write, so the transaction holds the write lock throughout), read, moved on,
written. The same row counts failed requests in a row across workers: the brake of the whole
send. It is only used where a rate applies; otherwise ``LocalBudget`` holds the provider's
retry times, and the brake, for this process alone. Slot times are wall-clock times, so the
machines sharing one budget need synchronised clocks (NTP).

Database errors leave as ``StorageError``: the engine retries them like its other writes.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digiweetjes.db import Database
from digiweetjes.models import SendRate
from digiweetjes.sending.pace import Pace, Slot


class Budget(Protocol):
    """The request slots of one provider account and what the provider said about them."""

    def take(self, now: float, horizon: float) -> Slot: ...

    def rate_limited(self, now: float, sent_at: float, retry_after: float | None) -> None: ...

    def accepted(self, now: float, blocked_until: float | None) -> None: ...

    def failed(self, now: float) -> int:
        """Count a failed request; the failed requests in a row (everyone's, if shared)."""
        ...

    def clear_failures(self, now: float) -> None: ...


class LocalBudget:
    """A pace kept in this process (no rate applies, or a test)."""

    def __init__(self, ceiling: float | None) -> None:
        self.pace = Pace.start(ceiling)
        self._failures = 0
        self._lock = threading.Lock()

    def take(self, now: float, horizon: float) -> Slot:
        with self._lock:
            return self.pace.take(now, horizon)

    def rate_limited(self, now: float, sent_at: float, retry_after: float | None) -> None:
        with self._lock:
            self.pace.rate_limited(now, sent_at, retry_after)

    def accepted(self, now: float, blocked_until: float | None) -> None:
        with self._lock:
            self.pace.accepted()
            self._failures = 0
            if blocked_until is not None:
                self.pace.block(blocked_until)

    def failed(self, now: float) -> int:
        with self._lock:
            self._failures += 1
            return self._failures

    def clear_failures(self, now: float) -> None:
        with self._lock:
            self._failures = 0


class SharedBudget:
    """A pace kept in the provider's ``send_rates`` row (see the module docstring)."""

    def __init__(self, db: Database, provider: str, ceiling: float) -> None:
        self.db = db
        self.provider = provider
        self.ceiling = ceiling
        # What the last transaction saw: an accepted request writes only when there is
        # something to undo (a cut rate, counted failures).
        self._behind = False

    def take(self, now: float, horizon: float) -> Slot:
        with self.db.session() as session:
            row, pace = self._locked(session, now)
            slot = pace.take(now, horizon)
            if slot.granted:
                self._store(session, pace, now)
            self._behind = pace.rate < self.ceiling or row.failures > 0
            return slot

    def rate_limited(self, now: float, sent_at: float, retry_after: float | None) -> None:
        with self.db.session() as session:
            _row, pace = self._locked(session, now)
            pace.rate_limited(now, sent_at, retry_after)
            self._store(session, pace, now)
            self._behind = True

    def accepted(self, now: float, blocked_until: float | None) -> None:
        if not self._behind and blocked_until is None:
            return
        with self.db.session() as session:
            _row, pace = self._locked(session, now)
            pace.accepted()
            if blocked_until is not None:
                pace.block(blocked_until)
            self._store(session, pace, now, failures=0)
            self._behind = pace.rate < self.ceiling

    def failed(self, now: float) -> int:
        with self.db.session() as session:
            self._locked(session, now)
            count = session.execute(
                update(SendRate).where(SendRate.provider == self.provider)
                .values(failures=SendRate.failures + 1, updated_at=_utc(now))
                .returning(SendRate.failures)).scalar_one()
        self._behind = True
        return count

    def clear_failures(self, now: float) -> None:
        with self.db.session() as session:
            self._locked(session, now)
            session.execute(update(SendRate).where(SendRate.provider == self.provider)
                            .values(failures=0, updated_at=_utc(now)))

    # -- the row --

    def _locked(self, session: Session, now: float) -> tuple[SendRate, Pace]:
        """The provider's row, created if missing, locked for this transaction."""
        insert = postgres_insert if self.db.backend == "postgresql" else sqlite_insert
        # A write first: on SQLite it takes the write lock for the whole transaction (a read
        # first would take a read lock that may fail to upgrade); on PostgreSQL it is a no-op
        # once the row exists, and FOR UPDATE below locks it.
        session.execute(insert(SendRate).values(
            provider=self.provider, ceiling=self.ceiling, rate=self.ceiling, next_free_at=0.0,
            blocked_until=0.0, slowed_at=0.0, failures=0, updated_at=_utc(now),
        ).on_conflict_do_nothing(index_elements=["provider"]))
        row = session.execute(select(SendRate).where(SendRate.provider == self.provider)
                              .with_for_update()).scalar_one()
        pace = Pace(ceiling=row.ceiling, rate=row.rate, next_free_at=row.next_free_at,
                    blocked_until=row.blocked_until, slowed_at=row.slowed_at)
        pace.adopt(self.ceiling)
        return row, pace

    def _store(self, session: Session, pace: Pace, now: float, **extra: object) -> None:
        session.execute(update(SendRate).where(SendRate.provider == self.provider).values(
            ceiling=pace.ceiling, rate=pace.rate, next_free_at=pace.next_free_at,
            blocked_until=pace.blocked_until, slowed_at=pace.slowed_at, updated_at=_utc(now),
            **extra))


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
