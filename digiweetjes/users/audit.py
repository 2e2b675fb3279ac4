"""The audit log: one row per action of a user or the command line (who, what, when).

Written in the same transaction as the action it records, so an action that was rolled back
leaves no row, and a row means it happened. The detail is read by admins: it names a
subscriber by id, never by address (an erased person must not live on in the log).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.models import AuditEvent

#: The actor of commands run on the command line.
CLI_ACTOR = "cli"
MAX_DETAIL = 2000


def record_audit(session: Session, clock: Clock, actor: str, action: str,
                 detail: str = "") -> AuditEvent:
    """Add one audit row in ``session``'s transaction."""
    event = AuditEvent(at=clock.now(), actor=actor[:60], action=action[:60],
                       detail=detail[:MAX_DETAIL])
    session.add(event)
    session.flush()
    return event


def recent_audit(session: Session, limit: int = 200) -> list[AuditEvent]:
    """The newest audit rows, newest first."""
    return list(session.scalars(
        select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
