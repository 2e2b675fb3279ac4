"""The demo's last step: send the sample issue to the demo subscribers through the outbox."""

from __future__ import annotations

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import open_database
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.sending import ledger, service
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions

SAMPLE_ISSUE = "2026-12-05-overzicht-projectoproepen"


def send_demo_issue(settings: Settings, clock: Clock, issue: str = SAMPLE_ISSUE) -> str:
    """Send ``issue`` once through the outbox (a second run reports it done); one line back."""
    draft, compiled = service.load_issue(settings, issue)
    folder = settings.outbox_dir / compiled.issue_id
    db = open_database(settings.database_url)
    try:
        existing = ledger.get_campaign(db, compiled.issue_id)
        if existing is not None and existing.state == "done":
            counts = ledger.counts(db, existing.id)
            return (f"{compiled.issue_id} was already sent ({counts['sent']} sent): nothing "
                    f"sent again; the .eml files are in {folder}")
        service.require_sendable(draft, compiled)
        provider = OutboxProvider(settings.outbox_dir, clock=clock)
        campaign, _created = service.start_or_resume(db, compiled, provider, clock)
        summary = SendEngine(db, provider, compiled, settings, clock,
                             SendOptions(concurrency=1)).run(campaign)
    finally:
        db.dispose()
    c = summary.counts
    return (f"{compiled.issue_id} sent to {c['sent']} of {campaign.audience_size} demo "
            f"subscribers through the outbox ({c['failed']} failed): the .eml files are in "
            f"{folder}")
