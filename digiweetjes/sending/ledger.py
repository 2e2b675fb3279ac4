"""The delivery ledger: one row per (campaign, subscriber), and the only code that moves it.

State machine (``DeliveryState``)::

    queued ──claim──► sending ──accepted──► sent            (provider's message id kept)
                         ├── refused ───────► failed         (provider's reason kept)
                         ├── transient ─────► queued         (same key, attempts + 1, backoff)
                         ├── unknown ───────► uncertain      (timeout after send, dead worker)
                         │     └ keyed provider, key still honoured ─► queued (same key)
    queued ──claim, unsubscribed/suppressed since the freeze──► suppressed

Exactly-once rests on three rules:

1. Every change is committed before the next step: the claim (``queued → sending`` with the
   batch's idempotency key and its first-use time) is committed before the request leaves;
   the outcome is committed as soon as it is known.
2. A row found in ``sending`` with no live worker may have been delivered. It becomes
   ``uncertain`` and is never sent again automatically, unless the provider honours idempotency
   keys and the batch's key is still inside the provider's window (with a safety margin): then
   the whole batch goes back to ``queued`` with the same key, and a resend is a replay.
3. Rows that share a key are always claimed, retried and recovered together, so a retried
   request carries the same recipients in the same order (and, because link tokens are issued
   at the campaign's freeze time, the same body).

Claiming is O(batch): on PostgreSQL fresh rows through a materialized ``FOR UPDATE SKIP
LOCKED`` CTE and a retry batch under an advisory lock on its key, so several workers on several
machines share one ledger and none waits for another; on SQLite the claiming UPDATE is the
first statement of its transaction, so it takes the write lock at once (what ``BEGIN
IMMEDIATE`` would do) and the database serialises claimers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, literal, select, update

from digiweetjes.db import Database
from digiweetjes.models import SubscriberStatus, UTCDateTime
from digiweetjes.providers.base import RecipientResult
from digiweetjes.sending.campaigns import (
    FAILED,
    IS_QUEUED,
    IS_SENDING,
    QUEUED,
    SENDING,
    SUP,
    SUPPRESSED,
    UNCERTAIN,
    D,
    S,
    open_counts,
)

#: How many due retry batches one claim tries before it takes fresh rows instead.
RETRY_CANDIDATES = 8


# -- claiming ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedRow:
    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    subregion: str | None
    email_hash: str
    #: The delivery's reference (``sending.references``): what the provider is given and
    #: echoes in its results and webhook events.
    reference: str


@dataclass(frozen=True)
class ClaimedBatch:
    """Rows claimed together: one provider request, one idempotency key."""

    key: str
    rows: Sequence[ClaimedRow]
    key_first_used_at: datetime
    attempts: int
    #: True when these rows were sent before under this key (a retry or a recovery).
    retry: bool
    suppressed: int = 0


class Ledger:
    """The ledger operations of one worker on one campaign (see the module docstring)."""

    def __init__(self, db: Database, campaign_id: int, worker_id: str) -> None:
        self.db = db
        self.campaign_id = campaign_id
        self.worker_id = worker_id
        self._postgres = db.backend == "postgresql"
        dialect = db.engine.dialect
        self._mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._stamp_processor = UTCDateTime().bind_processor(dialect)
        self._sent_statements: dict[int, str] = {}

    def _lockable(self, query: Select[Any]) -> Select[Any]:
        return query.with_for_update(skip_locked=True) if self._postgres else query

    def claim(self, limit: int, now: datetime) -> ClaimedBatch | None:
        """Claim a due retry batch (whole, same key) or up to ``limit`` fresh rows; None if none.

        Committed before returning, so the claim is durable before any request leaves.
        """
        batch = self._claim_retry(now)
        return batch if batch is not None else self._claim_fresh(limit, now)

    def _claim_fresh(self, limit: int, now: datetime) -> ClaimedBatch | None:
        key = uuid.uuid4().hex
        picked = self._lockable(
            select(D.c.id).where(D.c.campaign_id == self.campaign_id, IS_QUEUED,
                                 D.c.next_attempt_at.is_(None), D.c.idempotency_key.is_(None))
            .order_by(D.c.id).limit(limit))
        if self._postgres:
            # A materialized CTE locks exactly the rows it returns, and the UPDATE joins to
            # them. Inside ``id IN (subquery)`` the planner may flatten the subquery into a
            # join and lock (or skip) rows other than those it returns, or run it again.
            chosen = picked.cte("picked").prefix_with("MATERIALIZED")
            claim = update(D).where(D.c.id == chosen.c.id)
        else:
            claim = update(D).where(D.c.id.in_(picked.scalar_subquery()))
        with self.db.session() as session:
            claimed = session.execute(claim.values(
                state=SENDING, worker_id=self.worker_id, claimed_at=now, idempotency_key=key,
                key_first_used_at=now, updated_at=now)).rowcount
            if not claimed:
                return None
            rows = self._load(session, key)
            sendable = [row for row, skip in rows if skip is None]
            skipped = [(row, skip) for row, skip in rows if skip is not None]
            if skipped:
                session.execute(
                    update(D).where(D.c.id == bindparam("b_id")).values(
                        state=SUPPRESSED, reason=bindparam("b_reason"), worker_id=None,
                        updated_at=now),
                    [{"b_id": r.delivery_id, "b_reason": skip} for r, skip in skipped])
        return ClaimedBatch(key, sendable, now, 0, retry=False, suppressed=len(skipped))

    def _claim_retry(self, now: datetime) -> ClaimedBatch | None:
        # Nearly always nothing is due: a plain read (a range of the queued index, no write
        # lock, no transaction to commit) says so, and only a due retry pays for a claim.
        due = (select(D.c.idempotency_key)
               .where(D.c.campaign_id == self.campaign_id, IS_QUEUED,
                      D.c.idempotency_key.is_not(None), D.c.next_attempt_at <= now)
               .group_by(D.c.idempotency_key)
               .order_by(func.min(D.c.next_attempt_at), func.min(D.c.id))
               .limit(RETRY_CANDIDATES))
        with self.db.session() as session:
            keys = session.execute(due).scalars().all()
        # Another worker busy with one due key is no reason to wait: try the next one, and
        # the fresh rows after them.
        for key in keys:
            batch = self._claim_key(key, now)
            if batch is not None:
                return batch
        return None

    def _claim_key(self, key: str, now: datetime) -> ClaimedBatch | None:
        """Every queued row of ``key``, or nothing: a batch leaves whole or not at all."""
        with self.db.session() as session:
            if not self._lock_key(session, key):
                return None
            claimed = session.execute(
                update(D).where(D.c.campaign_id == self.campaign_id, IS_QUEUED,
                                D.c.next_attempt_at.is_not(None), D.c.idempotency_key == key)
                .values(state=SENDING, worker_id=self.worker_id, claimed_at=now,
                        updated_at=now)).rowcount
            if not claimed:
                return None  # claimed by another worker since the read above
            rows = self._load(session, key)
            first_used, attempts = session.execute(
                select(func.min(D.c.key_first_used_at), func.max(D.c.attempts))
                .where(D.c.idempotency_key == key)).one()
            # A keyed retry keeps its recipients: the first request may have been delivered,
            # and the provider only replays a byte-identical request. Only an erased address
            # (nothing left to send to) leaves the batch.
            erased = [r for r, _skip in rows if r.email is None]
            if erased:
                session.execute(
                    update(D).where(D.c.id == bindparam("b_id")).values(
                        state=SUPPRESSED, reason="erased since the audience was frozen",
                        worker_id=None, updated_at=now),
                    [{"b_id": r.delivery_id} for r in erased])
        return ClaimedBatch(key, [r for r, _skip in rows if r.email is not None],
                            first_used, attempts, retry=True, suppressed=len(erased))

    def _lock_key(self, session: Any, key: str, *, wait: bool = False) -> bool:
        """Whether this transaction may move the rows of ``key`` (``wait``: once it may).

        On PostgreSQL a transaction-scoped advisory lock on (campaign, key): of the workers
        reaching for one batch at once exactly one gets it, the others move on at once, and
        none holds some of its rows while waiting for the rest, which is how two claimers of
        one key used to deadlock. A hash collision of two keys only delays one of them. On
        SQLite the transaction's first write already serialises every writer.
        """
        if not self._postgres:
            return True
        lock = func.pg_advisory_xact_lock if wait else func.pg_try_advisory_xact_lock
        taken = session.scalar(select(lock(literal(self.campaign_id), func.hashtext(key))))
        return wait or bool(taken)

    def _load(self, session: Any, key: str) -> list[tuple[ClaimedRow, str | None]]:
        query = (
            select(D.c.id, D.c.subscriber_id, S.c.email, S.c.name, S.c.subregion,
                   S.c.email_hash, S.c.status, SUP.c.email_hash.label("suppressed"),
                   D.c.reference)
            .join(S, S.c.id == D.c.subscriber_id)
            .outerjoin(SUP, SUP.c.email_hash == S.c.email_hash)
            .where(D.c.campaign_id == self.campaign_id, D.c.idempotency_key == key, IS_SENDING,
                   D.c.worker_id == self.worker_id)
            .order_by(D.c.id))
        rows = []
        active = SubscriberStatus.ACTIVE.value
        for (delivery_id, subscriber_id, email, name, subregion, email_hash, status,
             suppressed, reference) in session.execute(query):
            skip = None
            if email is None:
                skip = "erased since the audience was frozen"
            elif status != active:
                skip = f"{status} since the audience was frozen"
            elif suppressed is not None:
                skip = "suppressed since the audience was frozen"
            rows.append((ClaimedRow(delivery_id, subscriber_id, email, name, subregion,
                                    email_hash or "", reference), skip))
        return rows

    # -- outcomes --

    def record(self, results: Iterable[RecipientResult], now: datetime) -> tuple[int, int]:
        """Record the provider's per-recipient answer, matched to the deliveries by reference;
        returns (sent, failed).

        The message id is stored as the provider gives it: per recipient for most, one id a
        whole batch for SendGrid and Mailgun, none for a Brevo replay refused as a duplicate.
        A result whose reference matches no delivery is not counted, so the caller treats its
        row as having no result.
        """
        sent: list[Any] = []
        failed: list[dict[str, Any]] = []
        for result in results:
            if result.status == "sent":
                sent.append(result.reference)
                sent.append(result.message_id)
            else:
                failed.append({"b_ref": result.reference,
                               "b_reason": (result.reason or "refused by the provider")[:2000]})
        stamp = self._stamp(now)
        marked = 0
        with self.db.session() as session:
            if sent:
                # One set-based statement moves every sent row and writes its message id,
                # joined to a VALUES list of (reference, message id): one pass over the rows
                # through the reference's unique index, and no per-row parameter processing
                # (the one timestamp is converted once, here).
                marked = session.connection().exec_driver_sql(
                    self._sent_statement(len(sent) // 2), (stamp, stamp, *sent)).rowcount
            if failed:
                session.execute(
                    update(D).where(D.c.reference == bindparam("b_ref")).values(
                        state=FAILED, reason=bindparam("b_reason"), worker_id=None,
                        next_attempt_at=None, updated_at=now), failed)
        return marked, len(failed)

    def _stamp(self, now: datetime) -> Any:
        """``now`` as the driver stores a ``UTCDateTime`` (for driver-level statements)."""
        process = self._stamp_processor
        return process(now) if process is not None else now

    def _sent_statement(self, count: int) -> str:
        """``UPDATE … FROM (VALUES …)`` marking ``count`` deliveries sent (by reference), with
        message ids."""
        statement = self._sent_statements.get(count)
        if statement is None:
            mark = self._mark
            # The first row's casts give the VALUES columns their types on PostgreSQL.
            first = f"(CAST({mark} AS VARCHAR), CAST({mark} AS VARCHAR))"
            rows = ", ".join([first] + [f"({mark}, {mark})"] * (count - 1))
            if self._postgres:
                source, vref, vmid = f"(VALUES {rows}) AS v (reference, message_id)", \
                    "v.reference", "v.message_id"
            else:  # SQLite names the columns of a VALUES list column1, column2, ...
                source, vref, vmid = f"(VALUES {rows}) AS v", "v.column1", "v.column2"
            statement = (
                f"UPDATE deliveries SET state = 'sent', sent_at = {mark}, updated_at = {mark}, "
                f"reason = NULL, worker_id = NULL, next_attempt_at = NULL, "
                f"message_id = {vmid} FROM {source} WHERE deliveries.reference = {vref}")
            self._sent_statements[count] = statement
        return statement

    def _batch_update(self, key: str, now: datetime, **values: Any) -> int:
        with self.db.session() as session:
            result = session.execute(
                update(D).where(D.c.campaign_id == self.campaign_id,
                                D.c.idempotency_key == key, IS_SENDING,
                                D.c.worker_id == self.worker_id)
                .values(updated_at=now, **values))
            return result.rowcount

    def requeue(self, batch: ClaimedBatch, now: datetime, due: datetime, reason: str, *,
                count_attempt: bool = True, reset_attempts: bool = False) -> int:
        """Back to ``queued`` with the same key, to be claimed again at ``due``
        (``reset_attempts``: a later run starts counting the batch's attempts afresh)."""
        attempts = 0 if reset_attempts else D.c.attempts + (1 if count_attempt else 0)
        return self._batch_update(
            batch.key, now, state=QUEUED, worker_id=None, next_attempt_at=due,
            reason=reason[:2000], attempts=attempts)

    def release(self, batch: ClaimedBatch, now: datetime) -> int:
        """Back to ``queued`` as fresh rows, the key dropped: nothing of the batch left (the
        adapter's own byte check refused it), so its rows may go in other, smaller batches."""
        return self._batch_update(batch.key, now, state=QUEUED, worker_id=None,
                                  idempotency_key=None, key_first_used_at=None,
                                  next_attempt_at=None)

    def fail(self, batch: ClaimedBatch, now: datetime, reason: str) -> int:
        """The provider refused the whole request: ``failed`` with its reason."""
        return self._batch_update(batch.key, now, state=FAILED, worker_id=None,
                                  next_attempt_at=None, reason=reason[:2000],
                                  attempts=D.c.attempts + 1)

    def uncertain(self, batch: ClaimedBatch, now: datetime, reason: str) -> int:
        """The request may have been delivered: ``uncertain``, never resent automatically."""
        return self._batch_update(batch.key, now, state=UNCERTAIN, worker_id=None,
                                  next_attempt_at=None, reason=reason[:2000],
                                  attempts=D.c.attempts + 1)

    # -- recovery --

    def recover(self, now: datetime, *, lease: timedelta, key_window: timedelta | None,
                stopped: Callable[[str | None], bool]) -> tuple[int, int]:
        """Batches held by stopped workers: requeued with their key while the provider still
        honours it (``key_window`` already shortened by a safety margin), else ``uncertain``.

        A worker has stopped when ``stopped(worker_id)`` says so for certain (the caller knows
        how to tell: see ``sending.workers``), or when it has held the batch longer than
        ``lease``. Returns (requeued, uncertain).
        """
        with self.db.session() as session:
            groups = session.execute(
                select(D.c.idempotency_key, D.c.worker_id, func.min(D.c.claimed_at),
                       func.min(D.c.key_first_used_at))
                .where(D.c.campaign_id == self.campaign_id, IS_SENDING)
                .group_by(D.c.idempotency_key, D.c.worker_id)).all()
        requeued = uncertain = 0
        for key, worker, claimed_at, first_used in groups:
            if worker == self.worker_id:
                continue
            expired = claimed_at is None or claimed_at + lease <= now
            if not (expired or stopped(worker)):
                continue
            keyed = key_window is not None and first_used is not None \
                and first_used + key_window > now
            values: dict[str, Any]
            if keyed:
                values = {"state": QUEUED, "next_attempt_at": now,
                          "reason": f"recovered from worker {worker}: resent with the same "
                                    "idempotency key"}
            else:
                values = {"state": UNCERTAIN, "next_attempt_at": None,
                          "reason": f"worker {worker} stopped while sending; the provider may "
                                    "have accepted the request"}
            with self.db.session() as session:
                # Two workers recovering at once would otherwise lock the key's rows in
                # their own orders; holding no other lock, waiting here cannot deadlock.
                self._lock_key(session, key, wait=True)
                count = session.execute(
                    update(D).where(D.c.campaign_id == self.campaign_id, IS_SENDING,
                                    D.c.idempotency_key == key, D.c.worker_id == worker)
                    .values(worker_id=None, updated_at=now, **values)).rowcount
            if keyed:
                requeued += count
            else:
                uncertain += count
        return requeued, uncertain

    # -- looking --

    def pending(self) -> tuple[int, int, datetime | None]:
        """(queued, sending, earliest next_attempt_at of a queued retry)."""
        queued, sending = open_counts(self.db, self.campaign_id)
        earliest = None
        if queued:
            with self.db.session() as session:
                earliest = session.scalar(select(func.min(D.c.next_attempt_at)).where(
                    D.c.campaign_id == self.campaign_id, IS_QUEUED))
        return queued, sending, earliest


