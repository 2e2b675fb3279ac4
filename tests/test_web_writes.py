"""The web app's write queue (``web.writes``): batched on the loop on SQLite, never blocking it.

Jobs insert ``mail_throttle`` rows (a table without foreign keys) so that what a transaction
kept is easy to count.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, event, text

from digiweetjes.db import Database
from digiweetjes.errors import StorageError
from digiweetjes.web import writes
from digiweetjes.web.writes import WriteQueue

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert(name: str):
    def job(connection: Connection) -> str:
        connection.execute(text("INSERT INTO mail_throttle (email_hash, kind, sent_at) "
                                "VALUES (:h, 'confirm', :at)"), {"h": name, "at": NOW})
        return f"stored {name}"
    return job


def _failing(name: str):
    def job(connection: Connection) -> str:
        _insert(name)(connection)
        raise ValueError(f"{name} went wrong after its insert")
    return job


def _stored(db: Database) -> list[str]:
    with db.session() as session:
        return sorted(session.execute(text("SELECT email_hash FROM mail_throttle")).scalars())


def _queue(db: Database) -> tuple[WriteQueue, ThreadPoolExecutor]:
    threads = ThreadPoolExecutor(max_workers=2)
    return WriteQueue(db, threads), threads


def _run(db: Database, main) -> object:
    """``main(queue)`` on a loop of its own, on a thread of its own (Playwright's sync API,
    used by other tests of the session, leaves a running loop on the main thread)."""
    queue, threads = _queue(db)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-loop") as loop_thread:
            return loop_thread.submit(lambda: asyncio.run(main(queue))).result(timeout=120)
    finally:
        queue.close()
        threads.shutdown(wait=True)


def test_each_job_gets_its_own_result_and_a_failing_job_undoes_only_itself(db) -> None:
    async def main(queue: WriteQueue):
        return await asyncio.gather(
            queue.run(_insert("a")), queue.run(_failing("b")), queue.run(_insert("c")),
            return_exceptions=True)

    first, second, third = _run(db, main)
    assert (first, third) == ("stored a", "stored c")
    assert isinstance(second, ValueError) and "b went wrong" in str(second)
    assert _stored(db) == ["a", "c"]


def test_sqlite_jobs_queued_together_share_one_commit(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'subscribers.db'}")
    db.upgrade()
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _connection: commits.append(1))

    async def main(queue: WriteQueue):
        return await asyncio.gather(*(queue.run(_insert(f"r{i}")) for i in range(10)))

    try:
        assert _run(db, main) == [f"stored r{i}" for i in range(10)]
        assert len(commits) == 1
        assert _stored(db) == sorted(f"r{i}" for i in range(10))
    finally:
        db.dispose()


def test_a_failed_commit_fails_every_job_of_the_batch_and_stores_nothing(
        tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'subscribers.db'}")
    db.upgrade()

    def breaks_the_commit(connection: Connection) -> None:
        # A ledger line of a subscriber that does not exist, checked only at COMMIT.
        connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        connection.execute(text(
            "INSERT INTO consent_events (subscriber_id, email_hash, event, occurred_at, "
            "source) VALUES (424242, 'x', 'subscribed', :at, 'form')"), {"at": NOW})

    async def main(queue: WriteQueue):
        return await asyncio.gather(queue.run(_insert("a")), queue.run(breaks_the_commit),
                                    return_exceptions=True)

    try:
        outcomes = _run(db, main)
        assert all(isinstance(o, Exception) for o in outcomes), outcomes
        assert "FOREIGN KEY" in str(outcomes[0])
        assert _stored(db) == []
    finally:
        db.dispose()


async def _heartbeats(until: asyncio.Future) -> int:
    beats = 0
    while not until.done():
        await asyncio.sleep(0.01)
        beats += 1
    return beats


def test_the_loop_goes_on_while_another_process_writes(tmp_path: Path) -> None:
    """Another worker process holds the lock file: a thread waits for it, the loop does not."""
    url = f"sqlite:///{tmp_path / 'subscribers.db'}"
    db, other_process = Database(url), Database(url)
    db.upgrade()
    other_process.writer_lock.acquire()
    released = threading.Timer(0.5, other_process.writer_lock.release)

    async def main(queue: WriteQueue):
        job = asyncio.ensure_future(queue.run(_insert("a")))
        released.start()
        beats = await _heartbeats(job)
        return beats, await job

    try:
        beats, result = _run(db, main)
        assert result == "stored a"
        assert beats >= 20  # about 50 in the half second; none while blocked
        assert _stored(db) == ["a"]
    finally:
        released.cancel()
        db.dispose()
        other_process.dispose()


def test_a_writer_outside_the_lock_file_sends_the_jobs_to_threads(tmp_path: Path) -> None:
    """A CLI import holds SQLite's own write lock: the loop's BEGIN fails at once (busy
    timeout 0) and a thread waits for the lock within the usual busy timeout."""
    path = tmp_path / "subscribers.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    importer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    importer.execute("BEGIN IMMEDIATE")
    done = threading.Timer(0.5, importer.execute, args=("COMMIT",))

    async def main(queue: WriteQueue):
        jobs = asyncio.ensure_future(asyncio.gather(queue.run(_insert("a")),
                                                    queue.run(_failing("b")),
                                                    return_exceptions=True))
        done.start()
        beats = await _heartbeats(jobs)
        return beats, await jobs

    try:
        beats, (first, second) = _run(db, main)
        assert first == "stored a" and isinstance(second, ValueError)
        assert beats >= 20
        assert _stored(db) == ["a"]
    finally:
        done.cancel()
        importer.close()
        db.dispose()


def test_a_database_that_cannot_be_written_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()

    db.dispose()
    for leftover in tmp_path.glob("subscribers.db-*"):
        leftover.unlink()
    path.write_bytes(b"not a database at all " * 400)  # the file replaced under the app

    async def main(queue: WriteQueue):
        return await asyncio.gather(queue.run(_insert("a")), return_exceptions=True)

    try:
        [outcome] = _run(db, main)
        assert isinstance(outcome, StorageError)
        assert "subscribers.db" in str(outcome)
    finally:
        db.dispose()


def test_the_loops_commits_leave_checkpoints_to_a_thread(tmp_path: Path, monkeypatch) -> None:
    db = Database(f"sqlite:///{tmp_path / 'subscribers.db'}")
    db.upgrade()
    monkeypatch.setattr(writes, "CHECKPOINT_EVERY", 5)
    checkpoints: list[str] = []
    real_checkpoint = db.checkpoint

    def checkpoint() -> None:
        checkpoints.append(threading.current_thread().name)
        real_checkpoint()

    monkeypatch.setattr(db, "checkpoint", checkpoint)

    async def main(queue: WriteQueue):
        for i in range(12):
            await queue.run(_insert(f"r{i}"))
        connection = queue._loop_connection()
        pragma = connection.connection.driver_connection.execute
        return (pragma("PRAGMA wal_autocheckpoint").fetchone()[0],
                pragma("PRAGMA busy_timeout").fetchone()[0])

    try:
        assert _run(db, main) == (0, 0)
        assert len(checkpoints) >= 1
        assert all(name.startswith("digiweetjes-checkpoint") for name in checkpoints)
        assert len(_stored(db)) == 12
    finally:
        db.dispose()


def test_a_worker_thread_writes_through_the_loop(db) -> None:
    async def main(queue: WriteQueue):
        through = queue.from_thread(asyncio.get_running_loop())
        return await asyncio.to_thread(lambda: [through.write(_insert("t1")),
                                                through.write(_insert("t2"))])

    assert _run(db, main) == ["stored t1", "stored t2"]
    assert _stored(db) == ["t1", "t2"]


def test_sqlite_jobs_run_on_the_loop_and_postgresql_jobs_on_threads(db) -> None:
    """PostgreSQL's statements are network round trips: they must not hold up the loop."""
    job_threads: list[str] = []

    def where(connection: Connection) -> None:
        job_threads.append(threading.current_thread().name)

    async def main(queue: WriteQueue):
        await asyncio.gather(queue.run(where), queue.run(where))
        return threading.current_thread().name

    loop_thread = _run(db, main)
    on_loop = [name == loop_thread for name in job_threads]
    assert on_loop == ([True, True] if db.backend == "sqlite" else [False, False])
