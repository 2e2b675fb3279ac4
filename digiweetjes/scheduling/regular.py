"""The regular cadence at work: the next approved issue without a time of its own is scheduled
at the next cadence time, and a warning goes out ahead when none is waiting.

Scheduling it (``release.plan.schedule_issue``) rather than sending it from a cron job keeps one
path for every send: ``jobs`` shows it, and the due step applies the grace time, the approval
check and the never-twice rule to it as to any scheduled issue.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import ReleaseError
from digiweetjes.models import IssueState
from digiweetjes.release import approval_problem, schedule_issue
from digiweetjes.release.records import releases_in
from digiweetjes.release.wording import moment
from digiweetjes.scheduling.due import Decision

log = logging.getLogger("digiweetjes.scheduler")
SCHEDULED, WARNED = "scheduled", "warned"


class RegularCadence:
    """Keeps the next cadence time filled (one per scheduler process; remembers its warnings)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self._warned: set[datetime] = set()

    def run(self) -> Decision | None:
        """Schedule an issue at the next cadence time if none is; warn if none can be."""
        cadence = self.settings.schedule.cadence
        if cadence is None:
            return None
        now = self.clock.now()
        slot = cadence.next_after(now)
        scheduled = releases_in(self.db, {IssueState.SCHEDULED, IssueState.SENDING})
        if any(r.send_at == slot for r in scheduled):
            return None
        for candidate in self._waiting():
            try:
                schedule_issue(self.db, self.settings, self.clock, candidate, slot)
            except ReleaseError as exc:  # changed state meanwhile: try the next one
                log.info("%s: niet ingepland volgens het ritme: %s", candidate, exc)
                continue
            message = (f"ingepland volgens het ritme ({cadence.text}): {candidate} op "
                       f"{moment(slot)}")
            log.info("%s", message)
            return Decision(candidate, SCHEDULED, message)
        warn_from = slot - timedelta(days=self.settings.schedule.warn_days)
        if now >= warn_from and slot not in self._warned:
            self._warned.add(slot)
            message = (f"waarschuwing: geen goedgekeurde editie voor {moment(slot)} (ritme "
                       f"{cadence.text}); keur er een goed met `digiweetjes approve`")
            log.warning("%s", message)
            return Decision("", WARNED, message)
        return None

    def _waiting(self) -> list[str]:
        """Approved issues without a time, whose approval still holds, longest approved first."""
        found = [r for r in releases_in(self.db, {IssueState.APPROVED}) if r.send_at is None]
        found.sort(key=lambda r: (r.approved_at or r.updated_at, r.issue_id))
        return [r.issue_id for r in found
                if approval_problem(self.db, self.settings, r.issue_id) is None]
