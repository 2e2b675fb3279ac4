"""The database layer: engine, pragmas, migrations, the schema check, error translation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

import digiweetjes.models  # noqa: F401
from digiweetjes.db import Base, Database, describe_url, open_database
from digiweetjes.errors import ConfigError, SchemaOutdatedError, StorageError
from digiweetjes.migrations.runner import current_revision, downgrade, head_revision
from digiweetjes.models import ConsentEvent, Subscriber

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_head_is_0001_or_later() -> None:
    assert head_revision() >= "0001"


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_fresh_database_is_refused_with_a_clear_message(database_url: str) -> None:
    database = Database(database_url)
    try:
        with pytest.raises(SchemaOutdatedError, match=r"voer eerst `digiweetjes init` uit"):
            database.check_schema()
    finally:
        database.dispose()


def test_upgrade_then_check_passes_and_is_idempotent(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert database.upgrade() == head_revision()
        assert database.upgrade() == head_revision()
        assert database.check_schema() == head_revision()
    finally:
        database.dispose()


def test_database_behind_head_says_run_init(db: Database) -> None:
    downgrade(db.engine, "base")
    assert current_revision(db.engine) is None
    with pytest.raises(SchemaOutdatedError, match="digiweetjes init"):
        open_database(db.url)
    db.upgrade()
    open_database(db.url).dispose()


def test_database_at_unknown_revision_says_upgrade_the_code(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaOutdatedError, match="die deze versie van digiweetjes niet kent"):
        db.check_schema()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'p.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    database.dispose()


def test_session_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.add(Subscriber(email="a@example.org", email_key="a@example.org",
                               email_hash="h", topics=[], language="nl-BE",
                               status="active", source="admin", created_at=NOW,
                               updated_at=NOW))
        session.flush()
        raise RuntimeError("boom")
    with db.session() as session:
        assert session.scalars(select(Subscriber)).all() == []


def test_datetimes_come_back_aware_utc_and_topics_as_list(db: Database) -> None:
    with db.session() as session:
        session.add(Subscriber(email="a@example.org", email_key="a@example.org",
                               email_hash="h", topics=["digitale-toegang", "projectoproepen"],
                               language="nl-BE", status="active", source="admin",
                               created_at=NOW, updated_at=NOW))
    with db.session() as session:
        row = session.scalars(select(Subscriber)).one()
        assert row.created_at == NOW and row.created_at.tzinfo is not None
        assert row.topics == ["digitale-toegang", "projectoproepen"]
        found = session.scalars(select(Subscriber).where(
            Subscriber.has_topic("projectoproepen"))).all()
        assert found == [row]
        assert session.scalars(select(Subscriber).where(
            Subscriber.has_topic("toegankelijk-design"))).all() == []


def test_check_constraint_refuses_unknown_status(db: Database) -> None:
    with pytest.raises(DBAPIError), db.session() as session:
        session.add(Subscriber(email="a@example.org", email_key="a@example.org",
                               email_hash="h", topics=[], language="nl-BE", status="weird",
                               source="admin", created_at=NOW, updated_at=NOW))


def _event(session, **overrides) -> ConsentEvent:
    values = dict(email="a@example.org", email_hash="h" * 64, event="subscribed",
                  occurred_at=NOW, source="form")
    values.update(overrides)
    event = ConsentEvent(**values)
    session.add(event)
    session.flush()
    return event


def test_ledger_is_append_only_in_the_database(db: Database) -> None:
    with db.session() as session:
        event_id = _event(session).id
    for statement in (
        "UPDATE consent_events SET event = 'confirmed'",
        "UPDATE consent_events SET email = 'b@example.org'",
        "UPDATE consent_events SET occurred_at = occurred_at",  # same value is allowed
        "DELETE FROM consent_events",
    ):
        if "occurred_at = occurred_at" in statement:
            with db.session() as session:
                session.execute(text(statement))
            continue
        with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
            session.execute(text(statement))
    # Erasure may blank the address, nothing else.
    with db.session() as session:
        session.execute(text("UPDATE consent_events SET email = NULL"))
    with db.session() as session:
        event = session.get(ConsentEvent, event_id)
        assert event is not None and event.email is None and event.event == "subscribed"


def test_operational_error_becomes_storage_error_without_password(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    database = Database(f"sqlite:///{missing}")
    with pytest.raises(StorageError, match="de databank is niet bruikbaar"):
        database.check_schema()
    database.dispose()
    database = Database("postgresql+psycopg://user:sup3rsecret@127.0.0.1:1/none")
    with pytest.raises(StorageError) as caught, database.session() as session:
        session.execute(text("SELECT 1"))
    assert "sup3rsecret" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    database.dispose()


def test_describe_url_hides_password() -> None:
    assert "s3cret" not in describe_url("postgresql+psycopg://u:s3cret@h/db")


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        Database("not a url")
    with pytest.raises(ConfigError, match="geen databankstuurprogramma voor nosuchdialect"):
        Database("nosuchdialect://x/y")


def test_the_subregion_constraint_lists_the_subregions_of_the_region(settings) -> None:
    """The schema is fixed by migrations, the region by projects.yaml: they must agree."""
    import re

    from sqlalchemy import CheckConstraint

    from digiweetjes.subscribers.places import region

    check = next(c for c in Subscriber.__table__.constraints
                 if isinstance(c, CheckConstraint) and "subregion" in str(c.sqltext))
    assert sorted(re.findall(r"'([^']+)'", str(check.sqltext))) == \
        sorted(region(settings).subregion_ids)


def test_sqlite_writers_of_two_processes_queue_on_a_lock_file(tmp_path: Path) -> None:
    """Each ``Database`` stands for a process (an flock is held per open file, so two in one
    process exclude each other as two processes would)."""
    import fcntl
    import os
    import threading

    url = f"sqlite:///{tmp_path / 'subscribers.db'}"
    first, second = Database(url), Database(url)
    first.upgrade()
    lock_file = tmp_path / "subscribers.db-writers"
    entered: list[str] = []
    try:
        with first.session(write=True) as session:
            session.execute(text("SELECT 1"))
            probe = os.open(lock_file, os.O_RDWR)
            try:  # held: another process's non-blocking try fails
                with pytest.raises(BlockingIOError):
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(probe)

            def write() -> None:
                with second.session(write=True):
                    entered.append("second")

            other = threading.Thread(target=write)
            other.start()
            other.join(timeout=0.3)
            assert other.is_alive() and entered == []  # waiting for the first
            entered.append("first done")
        other.join(timeout=10)
        assert entered == ["first done", "second"]
    finally:
        first.dispose()
        second.dispose()
