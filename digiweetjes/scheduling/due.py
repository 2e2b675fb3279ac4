"""What is due at a moment, and doing it: send, skip with a reason, or mark missed — never twice.

``DueSends.run()`` is the one decision step every scheduler job calls (the issue's own job at
its ``send_at``, the regular check, the demo). It is a function of the database, the settings
and the clock, so tests move the clock instead of sleeping:

* a scheduled issue whose time came within the grace time (``DIGIWEETJES_SCHEDULE_GRACE_HOURS``)
  is sent through the one send door, ``sending.service.send_issue``, confirmed;
* one whose time passed longer ago (the scheduler was down) is marked ``missed``, not sent;
* one whose approval no longer holds (edited after approval, cancelled) is skipped, with the
  reason in the log (once per reason) and in ``digiweetjes jobs``;
* a send that was interrupted (``sending``: a scheduler killed mid-send) resumes through the
  ledger, which sends no delivery twice.

The moves go through ``release.plan.mark``: one conditional UPDATE each, so of two processes
only one moves an issue from ``scheduled``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import DigiweetjesError, ReleaseError
from digiweetjes.models import IssueState
from digiweetjes.release import mark
from digiweetjes.release.plan import due_sends
from digiweetjes.release.records import releases_in
from digiweetjes.release.wording import moment
from digiweetjes.sending.processes import StopFlag
from digiweetjes.sending.service import SendOutcome

log = logging.getLogger("digiweetjes.scheduler")

SENT, SKIPPED, MISSED, PAUSED, FAILED, WAITING = (
    "sent", "skipped", "missed", "paused", "failed", "waiting")

#: Sends an issue by id through the send door, confirmed (``scheduling.sender``).
SendFunction = Callable[[str], SendOutcome]


@dataclass(frozen=True)
class Decision:
    """What the scheduler did with one issue, and the Dutch log line that said so."""

    issue_id: str
    action: str
    message: str


def within_grace(send_at: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether an issue due at ``send_at`` may still be sent at ``now``."""
    return now - send_at <= grace


class DueSends:
    """The scheduler's decisions for one process; ``run`` is called by every job."""

    def __init__(self, db: Database, settings: Settings, clock: Clock, *, send: SendFunction,
                 may_send: Callable[[], bool] = lambda: True, stop: StopFlag | None = None,
                 after_send: Callable[[str], None] | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.send = send
        self.may_send = may_send
        self.stop = stop
        self.after_send = after_send
        #: issue → the skip reason last logged, so a waiting issue is not logged every minute.
        self._told: dict[str, str] = {}

    def run(self) -> list[Decision]:
        """Handle every scheduled issue whose time has come, then resume interrupted sends."""
        now = self.clock.now()
        decisions = []
        for due in due_sends(self.db, self.settings, now):
            if self._stopping():
                break
            decisions.append(self._due(due.issue_id, due.send_at, due.problem, now))
        decisions += self.resume({IssueState.SENDING})
        return [d for d in decisions if d.action]

    def resume(self, states: Collection[IssueState]) -> list[Decision]:
        """Send what is left of the issues in ``states`` (``sending``; ``paused`` too in the
        housekeeping), each through the send door, which resumes from the ledger."""
        decisions = []
        for release in releases_in(self.db, set(states)):
            if self._stopping():
                break
            decisions.append(self._send(release.issue_id, resumed=True))
        return decisions

    def send_again(self, issue_id: str) -> Decision:
        """Send what went back to the queue of an issue already sent (after a reconcile)."""
        return self._send(issue_id, resumed=True)

    # -- one issue --

    def _due(self, issue_id: str, send_at: datetime, problem: str | None,
             now: datetime) -> Decision:
        grace = self.settings.schedule.grace_hours
        if not within_grace(send_at, now, self.settings.schedule.grace):
            reason = (f"gemist: {issue_id} stond gepland op {moment(send_at)}; de planner "
                      f"was toen niet actief en dat is buiten de wachttijd van {grace:g} uur, "
                      "dus niet verstuurd — plan opnieuw in met `digiweetjes schedule`")
            if not self._mark(issue_id, IssueState.MISSED, reason):
                return Decision(issue_id, "", "")
            log.warning("%s", reason)
            return Decision(issue_id, MISSED, reason)
        if problem:
            message = f"overgeslagen: {issue_id}: {problem}"
            if self._told.get(issue_id) != message:
                self._told[issue_id] = message
                log.warning("%s", message)
            return Decision(issue_id, SKIPPED, message)
        return self._send(issue_id, resumed=False)

    def _send(self, issue_id: str, *, resumed: bool) -> Decision:
        if not self.may_send():
            message = f"niet verstuurd: {issue_id}: deze planner is niet meer de actieve"
            log.warning("%s", message)
            return Decision(issue_id, WAITING, message)
        if not self._mark(issue_id, IssueState.SENDING, None):
            return Decision(issue_id, "", "")
        self._told.pop(issue_id, None)
        log.info("%s: %s", "hervat" if resumed else "versturen", issue_id)
        try:
            outcome = self.send(issue_id)
        except DigiweetjesError as exc:
            reason = f"mislukt: {issue_id}: {exc}"
            self._mark(issue_id, IssueState.PAUSED, reason)
            log.error("%s", reason)
            return Decision(issue_id, FAILED, reason)
        # The send door itself moves the release to sent or paused (a run stopped by a signal
        # stays `sending`, resumed at the next start); the scheduler only says what happened.
        summary = outcome.summary
        if summary is not None and not summary.done:
            if summary.paused_reason:
                message = f"gepauzeerd: {issue_id}: {summary.paused_reason}"
                action = PAUSED
            else:
                message = (f"onderbroken: {issue_id}: de planner stopte tussen twee batches; "
                           "ze gaat verder waar ze stopte bij de volgende start")
                action = WAITING
            log.warning("%s", message)
            return Decision(issue_id, action, message)
        counts = outcome.counts
        message = (f"verstuurd: {issue_id} naar {counts.get('sent', 0)} abonnees"
                   f" ({counts.get('failed', 0)} mislukt, {counts.get('uncertain', 0)} onzeker)")
        log.info("%s", message)
        if self.after_send is not None:
            self.after_send(issue_id)
        return Decision(issue_id, SENT, message)

    def _mark(self, issue_id: str, state: IssueState, reason: str | None) -> bool:
        try:
            mark(self.db, self.clock, issue_id, state, reason)
        except ReleaseError as exc:
            # Another process moved it first (or it was cancelled meanwhile): not ours to do.
            log.info("%s: niet naar %s gezet: %s", issue_id, state.value, exc)
            return False
        return True

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()
