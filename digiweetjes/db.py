"""The database: engine and sessions from a URL, migrations, and the schema check at start.

SQLite (the default, ``subscribers.db``) and PostgreSQL run the same queries. The driver errors
that mean "this database cannot be used" (unreachable, locked, not a database at all: see
``is_unusable``) are translated here into ``StorageError`` with a message naming the database
(never its password); constraint and programming errors stay what they are.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

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


def storage_error(exc: DBAPIError, url: str | None = None) -> StorageError:
    """A clear StorageError for a driver error (no SQL, no parameters, no password)."""
    where = f" ({describe_url(url)})" if url else ""
    original = str(getattr(exc, "orig", exc)).strip().splitlines()
    reason = original[0] if original else exc.__class__.__name__
    return StorageError(f"de databank is niet bruikbaar{where}: {reason}")


class _SqliteWriters:
    """SQLite's one writer at a time, queued: the threads of this process on a lock, and the
    processes (uvicorn's workers) on an ``flock`` of ``<database file>-writers``. Both wake the
    next waiter as soon as the writer is done, where SQLite's busy handler polls in growing
    sleeps (up to 100 ms each: the p99 of two workers was 360 ms). Where the file cannot be
    made (no folder, read-only, not POSIX), processes queue in SQLite's busy handler as before.
    """

    def __init__(self, path: str | None) -> None:
        self._threads = threading.Lock()
        self._path = path if fcntl is not None else None
        self._fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

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
        self._writers = _SqliteWriters(_writers_file(url) if self.backend == "sqlite" else None)

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
            # gave a p99 of seconds under load (``_SqliteWriters``).
            with self._writers.held(), self.usable(), self.sessions.begin() as session:
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
            with self._writers.held(), self.usable(), self.engine.connect() as connection:
                connection = connection.execution_options(**{IMMEDIATE: True})
                with connection.begin():
                    yield connection
            return
        with self.usable(), self.engine.begin() as connection:
            yield connection

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
        self._writers.close()


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
