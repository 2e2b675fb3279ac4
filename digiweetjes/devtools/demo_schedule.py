"""The demo's schedule step: the approved sample issue is scheduled (by its front matter, or a
minute from now) and the scheduler's due job runs once, as at that moment, without a
long-running process; the decisions come back as the scheduler logs them (Dutch)."""

from __future__ import annotations

from datetime import datetime, timedelta

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import open_database
from digiweetjes.models import IssueState
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.release import get_release, schedule_issue
from digiweetjes.release.wording import moment
from digiweetjes.scheduling.runner import make_runtime
from digiweetjes.sending.options import SendOptions

SAMPLE_ISSUE = "2026-12-05-overzicht-projectoproepen"


class _AheadClock:
    """The real clock moved ahead to the scheduled moment: the due job runs "then", now."""

    def __init__(self, clock: Clock, ahead: timedelta) -> None:
        self.clock = clock
        self.ahead = ahead

    def now(self) -> datetime:
        return self.clock.now() + self.ahead


def schedule_and_run_due_job(settings: Settings, clock: Clock,
                             issue: str = SAMPLE_ISSUE) -> str:
    """Schedule ``issue`` if it has no time yet, run the due job once at its time; lines back."""
    settings = settings.with_(send=SendOptions(concurrency=1))
    db = open_database(settings.database_url)
    try:
        release = get_release(db, issue)
        if release is not None and release.state is IssueState.SENT:
            return f"{issue} is al verstuurd: de planner verstuurt het niet opnieuw"
        lines = []
        if release is not None and release.state is IssueState.APPROVED:
            release = schedule_issue(db, settings, clock, issue,
                                     clock.now() + timedelta(minutes=1))
        if release is None or release.send_at is None:
            state = release.state.value if release else "niet goedgekeurd"
            return f"{issue} is niet ingepland ({state}): niets te doen"
        lines.append(f"ingepland voor {moment(release.send_at, settings.timezone)}; de demo "
                     "voert de taak van dat moment nu één keer uit")
        at_send_time = _AheadClock(clock, max(timedelta(0), release.send_at - clock.now()))
        runtime = make_runtime(db, settings, at_send_time, provider_factory=lambda: OutboxProvider(
            settings.outbox_dir, clock=at_send_time))
        decisions = runtime.check()
        lines += [d.message for d in decisions] or ["niets te doen op dat moment"]
        return "\n   ".join(lines)
    finally:
        db.dispose()
