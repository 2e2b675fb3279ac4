"""The web app's quick write transactions on SQLite: run on the event loop, batched.

Why not a thread, as every other database call of the app: SQLite has one writer at a time
(``db.WriterLock``, which uvicorn's worker processes queue on). A transaction on a thread gives
up the GIL at every statement and waits to get it back behind the event loop, all the while
holding the write lock: under load a one-click unsubscribe held it 1.6 ms for 0.4 ms of work,
and a second worker process added nothing. Run on the loop, the same transaction holds the lock
only for its work, and no thread hand-off is paid per request.

How the loop stays free:

- it never waits for a lock. It takes ``db.WriterLock`` when it is free; when it is not (the
  other worker is writing), a thread waits for it and hands it over;
- its connection does not wait for SQLite's own lock (``Database.connection_for_loop``):
  when a process outside the lock file (a CLI import, the send engine) is writing, the batch is
  handed to threads, which wait for it as before (``Database.connection(write=True)``);
- the jobs are quick by contract: a few statements, no network, no file (a sign-up's mail is
  sent between two jobs, on a thread).

Every job queued while the lock was taken goes into the same transaction (group commit), each
in a SAVEPOINT of its own: a job that raises undoes only its own statements, and its caller
gets its exception. The callers learn their result only once the COMMIT went through.

PostgreSQL writes side by side and its statements are network round trips: there the jobs run
on threads, one transaction each.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from digiweetjes.db import Database, WriteTransactions, is_busy, is_unusable, storage_error

T = TypeVar("T")
Job = Callable[[Connection], T]

log = logging.getLogger("digiweetjes.web")

#: Jobs in one transaction at most: the loop serves nothing else while it runs (a job takes
#: about 0.3 ms, so a full batch holds the loop about 10 ms).
MAX_BATCH = 32
#: Jobs between WAL checkpoints: a one-click writes about ten pages, SQLite's own default
#: checkpoints every 1,000.
CHECKPOINT_EVERY = 100


@dataclass
class _Queued:
    job: Job[Any]
    future: asyncio.Future[Any]


class WriteQueue:
    """Runs ``job(connection)`` in a write transaction; see the module for how and why."""

    def __init__(self, db: Database, threads: ThreadPoolExecutor) -> None:
        self._db = db
        self._threads = threads  # PostgreSQL's writes, and SQLite's when its lock is busy
        self._on_loop = db.backend == "sqlite"
        self._queue: deque[_Queued] = deque()
        self._drain: asyncio.Task[None] | None = None
        self._connection: Connection | None = None
        # Waits for the lock file while the other worker writes (it only ever blocks in flock).
        self._lock_waiter = ThreadPoolExecutor(max_workers=1,
                                               thread_name_prefix="digiweetjes-write-lock")
        self._checkpointer = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="digiweetjes-checkpoint")
        self._since_checkpoint = 0
        self._checkpointing = False

    async def run(self, job: Job[T]) -> T:
        """``job(connection)`` in one transaction (shared with other jobs on SQLite); its
        result once committed, or its exception (and nothing of it stored)."""
        loop = asyncio.get_running_loop()
        if not self._on_loop:
            return await loop.run_in_executor(self._threads, self._db.write, job)
        queued = _Queued(job, loop.create_future())
        self._queue.append(queued)
        if self._drain is None or self._drain.done():
            self._drain = loop.create_task(self._drain_queue())
        return await asyncio.shield(queued.future)  # a caller that goes away: the job still runs

    def from_thread(self, loop: asyncio.AbstractEventLoop) -> WriteTransactions:
        """The queue for a worker thread of ``loop`` (``db.WriteTransactions``): a domain
        operation that runs on a thread (it calls a provider) writes through it. On
        PostgreSQL the thread writes itself (``Database.write``): no hop to the loop and back.
        """
        return _FromThread(self, loop) if self._on_loop else self._db

    async def _drain_queue(self) -> None:
        try:
            while self._queue:
                await self._take_lock()
                try:
                    batch = [self._queue.popleft()
                             for _ in range(min(MAX_BATCH, len(self._queue)))]
                    handed_over = self._run_batch(batch)
                finally:
                    self._db.writer_lock.release()
                for queued in handed_over:
                    self._hand_to_thread(queued)
                await asyncio.sleep(0)  # let the loop serve what arrived meanwhile
        except BaseException as exc:  # shutting down, or the lock file failed
            for queued in self._queue:
                _settle(queued.future, exception=exc)
            self._queue.clear()
            if not isinstance(exc, Exception):
                raise
            log.error("the write queue stopped: %s", exc)  # its callers got the error

    async def _take_lock(self) -> None:
        lock = self._db.writer_lock
        if lock.acquire(blocking=False):
            return
        waiting: ThreadFuture[bool] = self._lock_waiter.submit(lock.acquire)
        try:
            await asyncio.shield(asyncio.wrap_future(waiting))
        except asyncio.CancelledError:
            # Shutting down while the thread waits: give the lock back once it has it.
            def give_back(done: ThreadFuture[bool]) -> None:
                if not done.cancelled() and done.exception() is None:
                    lock.release()

            waiting.add_done_callback(give_back)
            raise

    def _run_batch(self, batch: list[_Queued]) -> list[_Queued]:
        """One transaction for the batch; returns the jobs to hand to threads instead (SQLite's
        lock is held by a process outside the lock file)."""
        own_errors: dict[int, Exception] = {}
        results: dict[int, Any] = {}
        try:
            connection = self._loop_connection()
            try:
                transaction = connection.begin()
            except DBAPIError as exc:
                if is_busy(exc):
                    self._drop_connection()
                    return batch
                raise
            # SQLite's own SAVEPOINT statements: SQLAlchemy's nested transactions cost more
            # than the job's four statements.
            driver = connection.connection.driver_connection
            for index, queued in enumerate(batch):
                driver.execute("SAVEPOINT job")
                try:
                    results[index] = queued.job(connection)
                except Exception as exc:  # this job's own failure: undo only its statements
                    driver.execute("ROLLBACK TO job")
                    own_errors[index] = exc
                driver.execute("RELEASE job")
            transaction.commit()
        except BaseException as exc:  # the transaction failed: nothing of the batch is stored
            self._drop_connection()
            error = _translated(self._db, exc)
            for index, queued in enumerate(batch):
                _settle(queued.future, exception=own_errors.get(index, error))
            if not isinstance(exc, Exception):
                raise
            return []
        for index, queued in enumerate(batch):
            _settle(queued.future, result=results.get(index), exception=own_errors.get(index))
        self._checkpoint_now_and_then(len(batch))
        return []

    def _checkpoint_now_and_then(self, committed: int) -> None:
        """The loop's commits leave the WAL to grow (``Database.connection_for_loop``): every
        ``CHECKPOINT_EVERY`` jobs a thread copies it into the database file, beside the
        writers and without their lock."""
        self._since_checkpoint += committed
        if self._since_checkpoint < CHECKPOINT_EVERY or self._checkpointing:
            return
        self._since_checkpoint = 0
        self._checkpointing = True
        running = self._checkpointer.submit(self._db.checkpoint)

        def done(finished: ThreadFuture[None]) -> None:
            self._checkpointing = False
            if finished.exception() is not None:  # the next one tries again
                log.warning("WAL checkpoint failed: %s", finished.exception())

        running.add_done_callback(done)

    def _hand_to_thread(self, queued: _Queued) -> None:
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._threads, self._db.write, queued.job)

        def settle(done: asyncio.Future[Any]) -> None:
            if done.cancelled():
                _settle(queued.future, exception=asyncio.CancelledError())
            else:
                _settle(queued.future, result=None if done.exception() else done.result(),
                        exception=done.exception())

        running.add_done_callback(settle)

    def _loop_connection(self) -> Connection:
        if self._connection is None:
            with self._db.usable():
                self._connection = self._db.connection_for_loop()
        return self._connection

    def _drop_connection(self) -> None:
        """After a failure its state is unknown: closed, and a new one made next time."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # already broken; nothing more to undo
                log.debug("closing the write queue's broken connection failed", exc_info=True)

    def close(self) -> None:
        """At shutdown (after the server stopped taking requests)."""
        self._lock_waiter.shutdown(wait=True)
        self._checkpointer.shutdown(wait=True)
        self._drop_connection()


class _FromThread:
    def __init__(self, queue: WriteQueue, loop: asyncio.AbstractEventLoop) -> None:
        self._queue = queue
        self._loop = loop

    def write(self, job: Job[T]) -> T:
        return asyncio.run_coroutine_threadsafe(self._queue.run(job), self._loop).result()


def _translated(db: Database, exc: BaseException) -> BaseException:
    return storage_error(exc, db.url) if isinstance(exc, DBAPIError) and is_unusable(exc) else exc


def _settle(future: asyncio.Future[Any], *, result: Any = None,
            exception: BaseException | None = None) -> None:
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
