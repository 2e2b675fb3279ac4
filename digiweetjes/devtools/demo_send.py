"""The demo's release steps: approve the sample issue, send it to the demo subscribers through
the outbox."""

from __future__ import annotations

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database, open_database
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.sending import service
from digiweetjes.sending.options import SendOptions

SAMPLE_ISSUE = "2026-12-05-overzicht-projectoproepen"
DEMO_APPROVER = "Demo Nalezer"


def approve_demo_issue(db: Database, settings: Settings, clock: Clock,
                       issue: str = SAMPLE_ISSUE) -> str:
    """Approve ``issue`` as the demo's reviewer, unless its approval still holds; one line."""
    from digiweetjes.release import approval_problem, approve, get_release
    from digiweetjes.release.wording import STATE_WORDS, moment

    if approval_problem(db, settings, issue) is None:
        release = get_release(db, issue)
        state = STATE_WORDS[release.state] if release else "?"
        return f"{issue} was approved already ({state}): nothing to do"
    approval = approve(db, settings, clock, issue, by=DEMO_APPROVER)
    line = f"{issue} approved by {approval.approved_by} (content {approval.content_hash[:12]})"
    if approval.scheduled_at is not None:
        line += (f"; scheduled by its front matter for {moment(approval.scheduled_at)}, "
                 "sent now by the next step")
    return line


def send_demo_issue(settings: Settings, clock: Clock, issue: str = SAMPLE_ISSUE) -> str:
    """Send ``issue`` once through the outbox (a second run reports it done); one line back."""
    draft, compiled = service.load_issue(settings, issue)
    folder = settings.outbox_dir / compiled.issue_id
    db = open_database(settings.database_url)
    try:
        outcome = service.send_issue(
            draft, compiled, db=db, settings=settings, clock=clock,
            provider_factory=lambda: OutboxProvider(settings.outbox_dir, clock=clock),
            confirm=lambda plan: True, options=SendOptions(concurrency=1))
    finally:
        db.dispose()
    summary = outcome.summary
    if summary is None:
        counts = outcome.plan.counts or {}
        return (f"{compiled.issue_id} was already sent ({counts.get('sent', 0)} sent): nothing "
                f"sent again; the .eml files are in {folder}")
    c = summary.counts or {}
    return (f"{compiled.issue_id} sent to {c['sent']} of {outcome.plan.audience} demo "
            f"subscribers through the outbox ({c['failed']} failed): the .eml files are in "
            f"{folder}")
