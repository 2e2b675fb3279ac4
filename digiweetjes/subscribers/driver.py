"""Statements at the database driver's level, for the one-click unsubscribe.

The web's busiest write runs four short statements. Through SQLAlchemy each costs several
times what the driver needs to run it on SQLite (parameter processing, result set-up, events),
so these go straight to the DBAPI cursor of the caller's connection, inside the caller's
transaction. What SQLAlchemy's column types would do is done here, for exactly the types these
statements use: UTC datetimes (naive text with microseconds on SQLite, ``timestamptz`` on
PostgreSQL) and plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from digiweetjes.db import Executor

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class DriverSQL:
    """One statement, written with ``:name`` parameters, for SQLite and PostgreSQL."""

    def __init__(self, sql: str) -> None:
        self.sqlite = sql
        self.postgresql = _NAMED.sub(r"%(\1)s", sql)  # psycopg's named style


def _connections(executor: Executor) -> tuple[Any, str]:
    connection = executor.connection() if isinstance(executor, Session) else executor
    assert isinstance(connection, Connection)
    return connection.connection.driver_connection, connection.dialect.name


def run(executor: Executor, statement: DriverSQL,
        params: Mapping[str, object]) -> tuple[int, Sequence[tuple[Any, ...]]]:
    """Run ``statement``; its rowcount and any rows it returned (RETURNING or SELECT)."""
    driver, dialect = _connections(executor)
    if dialect == "sqlite":
        sql = statement.sqlite
        params = {key: _sqlite_value(value) for key, value in params.items()}
    else:
        sql = statement.postgresql
        params = {key: _plain(value) for key, value in params.items()}
    cursor = driver.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.rowcount, rows
    finally:
        cursor.close()


def _plain(value: object) -> object:
    # Our StrEnums as their text: psycopg would dump an Enum member by its name.
    return value.value if isinstance(value, Enum) else value


def _sqlite_value(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        # As ``UTCDateTime`` stores it on SQLite (SQLAlchemy's format: always microseconds).
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = value.astimezone(UTC)
        return (f"{naive.year:04d}-{naive.month:02d}-{naive.day:02d} {naive.hour:02d}:"
                f"{naive.minute:02d}:{naive.second:02d}.{naive.microsecond:06d}")
    return value


def utc(value: object) -> datetime:
    """A datetime column as read by the driver: text on SQLite, aware on PostgreSQL."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
