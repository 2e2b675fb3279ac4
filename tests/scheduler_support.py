"""Helpers for the scheduler tests: an approved sample issue with subscribers, a runtime."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.scheduling.jobs import Runtime
from digiweetjes.scheduling.runner import make_runtime
from digiweetjes.sending.options import SendOptions
from tests.release_support import SAMPLE_ID, approved, own_issues
from tests.sending_support import add_subscriber

#: The sample's front matter send_at: 5 December 2026, 09:00 Brussels.
SENDS_AT = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
READERS = 7


def scheduled_sample(db: Database, settings: Settings, tmp_path: Path, *,
                     approved_at: datetime | None = None) -> Settings:
    """Own issues folder, ``READERS`` subscribers, the sample approved (so scheduled by its
    front matter when approved before its time); the settings to use."""
    mine = own_issues(settings, tmp_path).with_(
        database_url=db.url, outbox_dir=tmp_path / "outbox",
        send=SendOptions(concurrency=1, batch_size=2))
    for n in range(READERS):
        add_subscriber(db, mine, f"lezer{n}@example.org", now=datetime(2026, 10, 1, tzinfo=UTC))
    clock = FixedClock(approved_at) if approved_at else None
    approved(db, mine, SAMPLE_ID, clock=clock)
    return mine


def runtime_for(db: Database, settings: Settings, clock: FixedClock, **kwargs) -> Runtime:
    return make_runtime(db, settings, clock,
                        provider_factory=lambda: OutboxProvider(settings.outbox_dir, clock=clock),
                        **kwargs)


def mails(settings: Settings) -> list[Path]:
    return sorted((settings.outbox_dir / SAMPLE_ID).glob("*.eml"))
