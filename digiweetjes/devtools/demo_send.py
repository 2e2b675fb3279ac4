"""The demo's last step: send the sample issue to the demo subscribers through the outbox."""

from __future__ import annotations

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import open_database
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.sending import service
from digiweetjes.sending.options import SendOptions

SAMPLE_ISSUE = "2026-12-05-overzicht-projectoproepen"


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
