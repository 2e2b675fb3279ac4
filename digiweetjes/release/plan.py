"""When issues go out: schedule, unschedule, cancel, the upcoming sends, the due ones, and the
state moves the send door and the scheduler make (``mark``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import DigiweetjesError, ReleaseError
from digiweetjes.models import IssueState
from digiweetjes.release import records
from digiweetjes.release.approval import compile_current, content_hash, problem_of
from digiweetjes.release.records import ReleaseInfo
from digiweetjes.release.wording import STATE_WORDS, approve_hint, moment
from digiweetjes.sending.campaigns import count_audience

S = IssueState
#: state → the states it may be reached from through ``mark`` (approve and schedule have
#: their own rules). ``sending`` again from ``sending`` resumes an interrupted send, from
#: ``sent`` retries failed deliveries; ``missed`` only from a time that passed unsent.
TRANSITIONS: dict[IssueState, frozenset[IssueState]] = {
    S.SENDING: frozenset({S.APPROVED, S.SCHEDULED, S.MISSED, S.PAUSED, S.SENDING, S.SENT}),
    S.SENT: frozenset({S.SENDING, S.PAUSED, S.SENT}),
    S.PAUSED: frozenset({S.SENDING, S.PAUSED}),
    S.MISSED: frozenset({S.SCHEDULED}),
    S.CANCELLED: frozenset({S.DRAFT, S.APPROVED, S.SCHEDULED, S.MISSED, S.PAUSED}),
    S.APPROVED: frozenset({S.SCHEDULED}),
}


@dataclass(frozen=True)
class UpcomingSend:
    """One line of ``digiweetjes jobs``."""

    issue_id: str
    subject: str
    #: None: approved without a time of its own (the cadence, or a `schedule`, decides).
    send_at: datetime | None
    audience: int | None
    state: IssueState
    approved_by: str | None
    approved_at: datetime | None
    #: Why it would not be sent now (None: it will go out at its time).
    problem: str | None


@dataclass(frozen=True)
class DueSend:
    """A scheduled issue whose time has come; ``problem`` says why it may not go (None: go)."""

    issue_id: str
    send_at: datetime
    problem: str | None


def _release(db: Database, issue_id: str) -> ReleaseInfo:
    found = records.get_release(db, issue_id)
    if found is None:
        raise ReleaseError(f"{issue_id} is niet goedgekeurd: keur eerst goed met "
                           f"{approve_hint(issue_id)}")
    return found


#: Called with the session of the transaction that makes a change (the web app's audit line).
Record = Callable[[Session], None]


def schedule_issue(db: Database, settings: Settings, clock: Clock, issue_id: str,
                   at: datetime, *, record: Record | None = None) -> ReleaseInfo:
    """Schedule an approved issue at ``at`` (aware); a scheduled one moves to the new time.

    Refused: a moment that is not in the future, an issue not approved or changed since, one
    being sent, sent, paused or cancelled. ``record`` runs in the transaction of the move,
    only if it moved.
    """
    if at.tzinfo is None:
        raise ValueError("schedule_issue needs an aware datetime")
    now = clock.now()
    if at <= now:
        raise ReleaseError(f"--at: {moment(at)} is voorbij (nu is het {moment(now)}): kies een "
                           "moment in de toekomst")
    source, compiled = compile_current(settings, issue_id)
    issue_id = source.issue_id
    digest = content_hash(compiled)
    release = _release(db, issue_id)
    allowed = {S.APPROVED, S.SCHEDULED, S.MISSED}
    if release.state not in allowed:
        raise ReleaseError(f"{issue_id} is {STATE_WORDS[release.state]}: inplannen kan alleen "
                           "voor een goedgekeurde editie")
    problem = problem_of(release, digest, issue_id)
    if problem:
        raise ReleaseError(f"{issue_id}: {problem}")
    with db.session(write=True) as session:
        moved = records.move(session, issue_id, allowed, now, state=S.SCHEDULED.value,
                             send_at=at, reason=None)
        if moved and record is not None:
            record(session)
    if not moved:
        raise ReleaseError(f"{issue_id} veranderde intussen van toestand: probeer opnieuw")
    return _release(db, issue_id)


def unschedule(db: Database, clock: Clock, issue_id: str, *,
               record: Record | None = None) -> ReleaseInfo:
    """A scheduled issue back to approved, without a time (``record`` as for schedule)."""
    release = _release(db, issue_id)
    if release.state is not S.SCHEDULED:
        raise ReleaseError(f"{issue_id} is niet ingepland (maar {STATE_WORDS[release.state]})")
    with db.session(write=True) as session:
        moved = records.move(session, issue_id, {S.SCHEDULED}, clock.now(),
                             state=S.APPROVED.value, send_at=None)
        if moved and record is not None:
            record(session)
    if not moved:
        raise ReleaseError(f"{issue_id} veranderde intussen van toestand: probeer opnieuw")
    return _release(db, issue_id)


def cancel(db: Database, clock: Clock, issue_id: str, reason: str | None = None) -> ReleaseInfo:
    """Cancel an issue: it is not sent (nor resumed) until someone approves it again."""
    return mark(db, clock, issue_id, S.CANCELLED, reason or "geannuleerd door de redactie")


def mark(db: Database, clock: Clock, issue_id: str, state: IssueState,
         reason: str | None = None) -> ReleaseInfo:
    """Move an issue to ``state`` if ``TRANSITIONS`` allows it from where it is (ReleaseError
    otherwise); one conditional UPDATE, so of two processes making the same move from a
    one-way state (``scheduled → missed``) only one succeeds."""
    allowed = TRANSITIONS.get(state)
    if allowed is None:
        raise ValueError(f"mark() does not move issues to {state}: use approve or schedule")
    release = _release(db, issue_id)
    values: dict[str, object] = {"state": state.value, "reason": reason}
    if state in (S.APPROVED, S.CANCELLED):
        values["send_at"] = None
    with db.session() as session:
        moved = records.move(session, issue_id, allowed, clock.now(), **values)
    if not moved:
        current = records.get_release(db, issue_id) or release
        raise ReleaseError(f"{issue_id} is {STATE_WORDS[current.state]}: kan niet naar "
                           f"'{STATE_WORDS[state]}'")
    return _release(db, issue_id)


def upcoming(db: Database, settings: Settings, clock: Clock) -> list[UpcomingSend]:
    """Scheduled and approved issues (and sends under way), soonest first, each with its
    audience now and why it would not go out, if it would not."""
    del clock  # the list is the same at any moment; kept for a uniform signature
    found = records.releases_in(db, {S.SCHEDULED, S.APPROVED, S.SENDING, S.PAUSED, S.MISSED})
    return [_upcoming(db, settings, release) for release in found]


def _upcoming(db: Database, settings: Settings, release: ReleaseInfo) -> UpcomingSend:
    try:
        compiled = compile_current(settings, release.issue_id)[1]
    except DigiweetjesError as exc:
        return UpcomingSend(release.issue_id, "?", release.send_at, None, release.state,
                            release.approved_by, release.approved_at,
                            f"de inhoud kan niet gelezen worden: {exc}")
    problem = problem_of(release, content_hash(compiled), release.issue_id)
    if problem is None and release.state in (S.PAUSED, S.MISSED):
        problem = release.reason or STATE_WORDS[release.state]
    return UpcomingSend(release.issue_id, compiled.subject, release.send_at,
                        count_audience(db, compiled.audience), release.state,
                        release.approved_by, release.approved_at, problem)


def due_sends(db: Database, settings: Settings, now: datetime) -> list[DueSend]:
    """Scheduled issues with ``send_at <= now``, oldest first, each with its approval problem."""
    due = [r for r in records.releases_in(db, {S.SCHEDULED})
           if r.send_at is not None and r.send_at <= now]
    result = []
    for release in due:
        assert release.send_at is not None
        try:
            digest = content_hash(compile_current(settings, release.issue_id)[1])
        except DigiweetjesError as exc:
            result.append(DueSend(release.issue_id, release.send_at,
                                  f"de inhoud kan niet gelezen worden: {exc}"))
            continue
        result.append(DueSend(release.issue_id, release.send_at,
                              problem_of(release, digest, release.issue_id)))
    return result
