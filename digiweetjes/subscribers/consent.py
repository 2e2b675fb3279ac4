"""The two writes every change of consent makes: a ledger line, and the suppression entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from digiweetjes.config import Settings
from digiweetjes.models import (
    ConsentEvent,
    ConsentEventType,
    Source,
    Subscriber,
    Suppression,
    SuppressionReason,
)
from digiweetjes.subscribers.hashing import Hasher


def record_consent(session: Session, settings: Settings, hasher: Hasher, now: datetime,
                   subscriber: Subscriber | None, event: ConsentEventType, source: Source, *,
                   email: str | None = None, email_hash: str | None = None,
                   ip: str | None = None, detail: str | None = None,
                   notice: bool = False) -> ConsentEvent:
    """Append one line to the consent ledger (the IP only as a keyed hash)."""
    row = ConsentEvent(
        subscriber_id=subscriber.id if subscriber else None,
        email=email if email is not None else (subscriber.email if subscriber else None),
        email_hash=email_hash or (subscriber.email_hash if subscriber else None),
        event=event,
        occurred_at=now,
        source=source,
        # The version of the privacy notice shown when the person acted (consent events only).
        privacy_notice_version=settings.privacy_notice_version if notice else None,
        ip_hash=hasher.ip(ip),
        detail=detail,
    )
    session.add(row)
    return row


def suppress(session: Session, email_hash: str, reason: SuppressionReason, source: Source,
             now: datetime) -> None:
    """Put an address hash on the suppression list, or update the reason it is there."""
    row = session.get(Suppression, email_hash)
    if row is None:
        session.add(Suppression(email_hash=email_hash, reason=reason, source=source,
                                created_at=now, updated_at=now))
    elif row.reason != reason:
        row.reason, row.source, row.updated_at = reason, source, now
