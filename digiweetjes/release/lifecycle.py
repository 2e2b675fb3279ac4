"""The send door's moves of an issue's release: ``sending`` when a run starts, ``sent`` when its
campaign is done, ``paused`` when it paused itself. Never refused: the door has checked the
approval already, and a send must not fail over its bookkeeping."""

from __future__ import annotations

from digiweetjes.clock import Clock
from digiweetjes.db import Database
from digiweetjes.models import IssueState
from digiweetjes.release import records

S = IssueState
#: Every state an approved issue can be in when its send starts or ends (not a cancelled one:
#: the door refuses that).
_LIVE = frozenset(IssueState) - {S.CANCELLED, S.DRAFT}


def start(db: Database, clock: Clock, issue_id: str) -> None:
    """A run of the issue's send begins (the first, a resumed or a retrying one)."""
    with db.session() as session:
        records.move(session, issue_id, _LIVE, clock.now(), state=S.SENDING.value, reason=None)


def settle(db: Database, clock: Clock, issue_id: str, *, done: bool,
           paused_reason: str | None = None) -> None:
    """After a run: ``sent`` if the campaign is done, ``paused`` (with why) if it paused."""
    if done:
        values: dict[str, object] = {"state": S.SENT.value, "reason": None}
    elif paused_reason:
        values = {"state": S.PAUSED.value, "reason": paused_reason}
    else:
        return  # stopped part-way (a signal): still sending, to be resumed
    with db.session() as session:
        records.move(session, issue_id, _LIVE, clock.now(), **values)
