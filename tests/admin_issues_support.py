"""Shared pieces of the admin issue and dashboard tests: a sent campaign with problems, ledger
lines at chosen moments, webhook events on chosen deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.models import Campaign, ConsentEvent, Delivery, WebhookEvent
from tests.sending_support import add_subscriber, freeze, sample_issue


def ledger_line(db: Database, event: str, at: datetime, *, source: str = "form",
                detail: str | None = None) -> None:
    """One consent ledger line (no subscriber needed for the counts)."""
    with db.session() as session:
        session.execute(insert(ConsentEvent).values(
            subscriber_id=None, email=None, email_hash="h" * 64, event=event, occurred_at=at,
            source=source, detail=detail))


def sent_campaign(db: Database, settings: Settings, now: datetime, *, recipients: int,
                  failed: int = 0, uncertain: int = 0, issue_id: str | None = None,
                  prefix: str = "lezer") -> tuple[int, list[int]]:
    """A campaign of ``recipients`` active subscribers: the first ``failed`` deliveries failed,
    the next ``uncertain`` uncertain, the rest sent; the campaign done (nothing queued). Returns
    (campaign id, delivery ids)."""
    for n in range(recipients):
        add_subscriber(db, settings, f"{prefix}{n:04d}@example.be", now=now)
    campaign = freeze(db, sample_issue(settings, issue_id=issue_id), "outbox", now)
    with db.session() as session:
        ids = list(session.scalars(select(Delivery.id).where(
            Delivery.campaign_id == campaign.id).order_by(Delivery.id)))
        for index, delivery_id in enumerate(ids):
            if index < failed:
                values = {"state": "failed", "reason": f"geweigerd door de provider {index}"}
            elif index < failed + uncertain:
                values = {"state": "uncertain", "reason": "time-out na verzenden"}
            else:
                values = {"state": "sent", "sent_at": now}
            session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
        session.execute(update(Campaign).where(Campaign.id == campaign.id)
                        .values(state="done", finished_at=now))
    return campaign.id, ids


def reported(db: Database, kind: str, delivery_ids: list[int], at: datetime, *,
             provider: str = "postmark", key: str = "e") -> None:
    """One webhook event of ``kind`` for each delivery."""
    with db.session() as session:
        for delivery_id in delivery_ids:
            session.execute(insert(WebhookEvent).values(
                provider=provider, event_key=f"{key}-{kind}-{delivery_id}", kind=kind,
                provider_event=kind, email_hash=None, reference=None, delivery_id=delivery_id,
                outcome="bounced", detail=None, occurred_at=at, received_at=at))
