"""The ``issue_releases`` rows: read one, create or update one, move its state conditionally."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digiweetjes.db import Database
from digiweetjes.models import IssueRelease, IssueState


@dataclass(frozen=True)
class ReleaseInfo:
    """A snapshot of one issue's release row."""

    issue_id: str
    state: IssueState
    content_hash: str | None
    approved_by: str | None
    approved_at: datetime | None
    send_at: datetime | None
    reason: str | None
    updated_at: datetime


def info(row: IssueRelease) -> ReleaseInfo:
    return ReleaseInfo(row.issue_id, IssueState(row.state), row.content_hash, row.approved_by,
                       row.approved_at, row.send_at, row.reason, row.updated_at)


def get_row(session: Session, issue_id: str) -> IssueRelease | None:
    return session.get(IssueRelease, issue_id)


def get_release(db: Database, issue_id: str) -> ReleaseInfo | None:
    """The release row of an issue, or None if nobody ever approved it."""
    with db.session() as session:
        row = session.get(IssueRelease, issue_id)
        return info(row) if row else None


def releases_in(db: Database, states: Collection[IssueState]) -> list[ReleaseInfo]:
    """Every release in one of ``states``, by send time (those without one last), then id."""
    with db.session() as session:
        rows = session.scalars(select(IssueRelease).where(
            IssueRelease.state.in_([s.value for s in states]))).all()
        found = [info(row) for row in rows]
    return sorted(found, key=lambda r: (r.send_at is None, r.send_at or r.updated_at,
                                        r.issue_id))


def upsert(session: Session, issue_id: str, now: datetime, **values: Any) -> None:
    """Create the issue's row with ``values``, or update it (inside the caller's transaction)."""
    row = session.get(IssueRelease, issue_id)
    if row is None:
        try:
            with session.begin_nested():
                session.add(IssueRelease(issue_id=issue_id, created_at=now, updated_at=now,
                                         **values))
            return
        except IntegrityError:
            pass  # created by another process meanwhile: update theirs
        row = session.get(IssueRelease, issue_id, populate_existing=True)
        assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now


def move(session: Session, issue_id: str, allowed: Collection[IssueState], now: datetime,
         **values: Any) -> bool:
    """Set ``values`` only if the row's state is one of ``allowed``: True if it moved.

    One conditional UPDATE, so two processes racing for the same move cannot both win.
    """
    result = session.execute(
        update(IssueRelease)
        .where(IssueRelease.issue_id == issue_id,
               IssueRelease.state.in_([s.value for s in allowed]))
        .values(updated_at=now, **values))
    return bool(result.rowcount)
