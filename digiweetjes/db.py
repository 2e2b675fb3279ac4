"""The database: engine and sessions from a URL, migrations, and the schema check at start.

SQLite (the default, ``subscribers.db``) and PostgreSQL run the same queries. The driver errors
that mean "this database cannot be used" (unreachable, locked, not a database at all: see
``is_unusable``) are translated here into ``StorageError`` with a message naming the database
(never its password); constraint and programming errors stay what they are.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

try:  # POSIX; elsewhere processes queue in SQLite's busy handler
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from digiweetjes.errors import ConfigError, SchemaOutdatedError, StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Named constraints, so Alembic can alter them (SQLite batch mode) and 0002+ can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; its metadata is what the migrations build."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def describe_url(url: str) -> str:
    """The URL as it may be shown to a person: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout per connection."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"DIGIWEETJES_DATABASE_URL is geen databankadres: {exc}") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling is off, so that BEGIN is issued by us (below):
            # otherwise SQLite reads outside a transaction and SAVEPOINTs misbehave.
            event.listen(engine, "begin", _sqlite_begin)
        else:
            kwargs.setdefault("pool_pre_ping", True)
            engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"geen databankstuurprogramma voor {describe_url(url)}: {exc} "
            "(voor PostgreSQL: installeer de extra 'postgres', psycopg)"
        ) from exc
    return engine


#: What runs a statement: an ORM session, or a Core connection (``Database.connection``).
Executor = Session | Connection
T = TypeVar("T")


class WriteTransactions(Protocol):
    """Runs ``job(connection)`` in a write transaction of its own and returns its result:
    ``Database`` itself, or the web app's write queue seen from a worker thread."""

    def write(self, job: Callable[[Connection], T]) -> T: ...

#: Execution option of a connection whose transaction will write: SQLite takes the write lock at
#: BEGIN (``Database.session(write=True)``).
IMMEDIATE = "digiweetjes_immediate"


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that reads, then writes, fails at once with "database is locked"
    # when another writer committed in between (the busy timeout does not apply to that
    # upgrade); BEGIN IMMEDIATE waits for the lock up front instead, within the busy timeout.
    immediate = conn.get_execution_options().get(IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-32000")
    finally:
        cursor.close()


def is_unusable(exc: DBAPIError) -> bool:
    """Whether a driver error means the database cannot be used at all (not a bug in a query).

    OperationalError: unreachable, locked, a missing folder. InterfaceError: the connection
    broke. A bare DatabaseError (none of its subclasses): SQLite's "file is not a database".
    """
    return isinstance(exc, OperationalError | InterfaceError) or type(exc) is DatabaseError


@contextmanager
def _usable(url: str) -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if not is_unusable(exc):
            raise
        raise storage_error(exc, url) from exc


def is_busy(exc: BaseException) -> bool:
    """Whether a driver error is SQLite's "another connection is writing" (locked, busy)."""
    original = getattr(exc, "orig", exc)
    text = str(original).lower()
    return type(original).__name__ == "OperationalError" and (
        "database is locked" in text or "busy" in text)


def storage_error(exc: DBAPIError, url: str | None = None) -> StorageError:
    """A clear StorageError for a driver error (no SQL, no parameters, no password)."""
    where = f" ({describe_url(url)})" if url else ""
    original = str(getattr(exc, "orig", exc)).strip().splitlines()
    reason = original[0] if original else exc.__class__.__name__
    return StorageError(f"de databank is niet bruikbaar{where}: {reason}")


class WriterLock:
    """SQLite's one writer at a time, queued: the threads of this process on a lock, and the
    processes (uvicorn's workers) on an ``flock`` of ``<database file>-writers``. Both wake the
    next waiter as soon as the writer is done, where SQLite's busy handler polls in growing
    sleeps (up to 100 ms each: the p99 of two workers was 360 ms). Where the file cannot be
    made (no folder, read-only, not POSIX), processes queue in SQLite's busy handler as before.

    ``acquire`` and ``release`` may happen on different threads: the web app's write queue
    (``web.writes``) has a thread wait for the lock and its event loop use and release it.
    """

    def __init__(self, path: str | None) -> None:
        self._threads = threading.Lock()
        self._path = path if fcntl is not None else None
        self._fd: int | None = None

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock; with ``blocking=False``, False at once when someone holds it."""
        if not self._threads.acquire(blocking=blocking):
            return False
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        """Give the lock back (whichever thread took it)."""
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def _file(self) -> int | None:
        if self._fd is None and self._path is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self._path = None
        return self._fd

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _writers_file(url: str) -> str | None:
    """The lock file beside a SQLite database file; None for memory or URI databases."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writers"


class Database:
    """An engine and its session factory; ``session()`` is one transaction."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite's writers queue here (``write=True``); unused on PostgreSQL.
        self.writer_lock = WriterLock(
            _writers_file(url) if self.backend == "sqlite" else None)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error.

        ``write=True`` for short transactions that will write, run side by side (the web app's
        requests): on SQLite they queue for the write lock at BEGIN instead of failing midway.
        """
        if write and self.backend == "sqlite":
            # SQLite has one writer at a time. Threads and processes queue on locks (woken in
            # turn) rather than in SQLite's busy handler, which sleeps in growing steps and
            # gave a p99 of seconds under load (``WriterLock``).
            with self.writer_lock.held(), self.usable(), self.sessions.begin() as session:
                session.connection(execution_options={IMMEDIATE: True})
                yield session
            return
        with self.usable(), self.sessions.begin() as session:
            yield session

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[Connection]:
        """``session`` without the ORM: one transaction on a Core connection, for the quick
        paths (the one-click unsubscribe) where a Session's bookkeeping costs more than the
        SQL. The same locking and error translation as ``session``."""
        if write and self.backend == "sqlite":
            with self.writer_lock.held(), self.usable(), self.engine.connect() as connection:
                connection = connection.execution_options(**{IMMEDIATE: True})
                with connection.begin():
                    yield connection
            return
        with self.usable(), self.engine.begin() as connection:
            yield connection

    def connection_for_loop(self) -> Connection:
        """A SQLite connection of the caller's own for quick writes on an event loop, which
        must never block (``web.writes``): its BEGIN IMMEDIATE fails at once (``is_busy``)
        when another connection holds the write lock, instead of waiting out the busy timeout,
        and its commits never checkpoint the WAL (an fsync or two, a third of a one-click's
        time under the lock): the caller calls ``checkpoint`` elsewhere. The caller keeps it,
        and ends it with ``invalidate()``: with these settings it must not go back to the pool.
        """
        connection = self.engine.connect().execution_options(**{IMMEDIATE: True})
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA busy_timeout=0")
        driver.execute("PRAGMA wal_autocheckpoint=0")
        return connection

    def checkpoint(self) -> None:
        """SQLite: copy the WAL's pages into the database file as far as readers allow; waits
        for no lock (PASSIVE), so it runs beside the writers. For ``connection_for_loop``."""
        if self.backend != "sqlite":
            return
        with self.usable():
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                raw.close()

    def write(self, job: Callable[[Connection], T]) -> T:
        """``job(connection)`` in one write transaction (``connection(write=True)``); what it
        returns. ``WriteTransactions`` for the domain's multi-step writes (``sign_up``)."""
        with self.connection(write=True) as connection:
            return job(connection)

    def usable(self) -> AbstractContextManager[None]:
        """Around database work: driver errors that make it unusable become StorageError."""
        return _usable(self.url)

    def upgrade(self) -> str:
        """Apply every migration up to head; returns the revision the database is now at."""
        from digiweetjes.migrations.runner import upgrade

        with self.usable():
            try:
                return upgrade(self.engine)
            except SchemaOutdatedError as exc:
                raise SchemaOutdatedError(f"{describe_url(self.url)}: {exc}") from exc

    def check_schema(self) -> str:
        """The current revision; SchemaOutdatedError when it is not the code's head."""
        from digiweetjes.migrations.runner import current_revision, head_revision

        with self.usable():
            current = current_revision(self.engine)
        head = head_revision()
        if current == head:
            return current
        where = describe_url(self.url)
        if current is None:
            raise SchemaOutdatedError(
                f"de databank {where} heeft nog geen abonneetabellen: voer eerst "
                "`digiweetjes init` uit"
            )
        from digiweetjes.migrations.runner import known_revisions

        if current not in known_revisions():
            raise SchemaOutdatedError(
                f"de databank {where} staat op versie {current}, die deze versie van "
                f"digiweetjes niet kent (de nieuwste is {head}): installeer een nieuwere "
                "digiweetjes"
            )
        raise SchemaOutdatedError(
            f"de databank {where} staat op versie {current}, achter op de code ({head}): "
            "voer `digiweetjes init` uit om bij te werken"
        )

    def dispose(self) -> None:
        self.engine.dispose()
        self.writer_lock.close()


def open_database(url: str, *, check: bool = True) -> Database:
    """The database at ``url``, its schema checked against the code's migrations."""
    database = Database(url)
    if check:
        try:
            database.check_schema()
        except BaseException:
            database.dispose()
            raise
    return database
