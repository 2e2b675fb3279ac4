"""Synthetic subscribers inserted in bulk (tests and the send benchmark; not the subscribe path)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.models import Subscriber
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.places import region

#: (municipality, subregion id) of a synthetic reader.
Place = tuple[str | None, str | None]


def places(settings: Settings) -> tuple[Place, ...]:
    """(municipality, subregion id) the synthetic readers cycle through: one municipality of
    each subregion, then none (the list allows that)."""
    subregions = region(settings).subregions
    return (*((s.municipalities[0], s.id) for s in subregions), (None, None))


def synthetic_email(index: int, domain: str = "example.test") -> str:
    return f"lezer{index:07d}@{domain}"


def insert_subscribers(db: Database, settings: Settings, count: int, now: datetime, *,
                       start: int = 0, domain: str = "example.test",
                       chunk: int = 20_000) -> None:
    """``count`` active subscribers ``lezer0000000@domain``..., in chunks of one INSERT each."""
    hasher = Hasher(settings)
    where = places(settings)
    if db.backend == "sqlite":
        _insert_sqlite(db, hasher, where, count, now, start, domain, chunk)
        return
    table = Subscriber.__table__
    for first in range(start, start + count, chunk):
        rows = []
        for i in range(first, min(first + chunk, start + count)):
            email = synthetic_email(i, domain)
            municipality, subregion = where[i % len(where)]
            rows.append({
                "email": email, "email_key": email, "email_hash": hasher.email(email),
                "name": f"Lezer {i}" if i % 3 else None, "municipality": municipality,
                "subregion": subregion, "topics": [], "language": "nl-BE", "status": "active",
                "source": "import", "created_at": now, "updated_at": now, "confirmed_at": now,
            })
        with db.session() as session:
            session.execute(insert(table), rows)


_SQLITE_INSERT = (
    "INSERT INTO subscribers (email, email_key, email_hash, name, municipality, subregion, "
    "topics, language, status, source, created_at, updated_at, confirmed_at) "
    "VALUES (?, ?, ?, ?, ?, ?, '', 'nl-BE', 'active', 'import', ?, ?, ?)")


def _insert_sqlite(db: Database, hasher: Hasher, where: tuple[Place, ...], count: int,
                   now: datetime, start: int, domain: str, chunk: int) -> None:
    # Driver-level executemany: a million rows in seconds, not minutes. The timestamp is
    # written the way SQLAlchemy's SQLite DateTime stores a naive UTC value.
    stamp = now.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    for first in range(start, start + count, chunk):
        rows = []
        for i in range(first, min(first + chunk, start + count)):
            email = synthetic_email(i, domain)
            municipality, subregion = where[i % len(where)]
            rows.append((email, email, hasher.email(email), f"Lezer {i}" if i % 3 else None,
                         municipality, subregion, stamp, stamp, stamp))
        with db.session() as session:
            session.connection().exec_driver_sql(_SQLITE_INSERT, rows)
