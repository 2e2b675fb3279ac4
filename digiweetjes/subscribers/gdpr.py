"""GDPR rights and retention: erasure, the right of access, purging unconfirmed sign-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import SubscriberError
from digiweetjes.models import (
    ConsentEvent,
    ConsentEventType,
    MailThrottle,
    Source,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
)
from digiweetjes.subscribers.consent import suppress
from digiweetjes.subscribers.emails import email_key
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.lookup import lookup_email
from digiweetjes.subscribers.transactional import PENDING_RETENTION_DAYS

PENDING_RETENTION = timedelta(days=PENDING_RETENTION_DAYS)
#: Below this a purge would delete sign-ups whose confirmation email is still on its way.
MIN_PENDING_AGE = timedelta(days=1)


@dataclass(frozen=True)
class ErasureResult:
    subscriber_id: int | None
    ledger_events: int


def erase(session: Session, clock: Clock, settings: Settings, email: str, *,
          source: Source = Source.ADMIN) -> ErasureResult:
    """Right to be forgotten: personal data gone; the keyed hash stays in ledger and suppression.

    Safe to repeat, and works for an address we hold nothing on (it is then only suppressed).
    """
    hasher = Hasher(settings)
    now = clock.now()
    normalized, subscriber = lookup_email(session, email)
    email_hash = hasher.email(email_key(normalized))
    subscriber_id = subscriber.id if subscriber else None
    if subscriber is not None:
        subscriber.email = subscriber.email_key = subscriber.email_hash = None
        subscriber.name = subscriber.municipality = subscriber.subregion = None
        subscriber.consent_note = None
        subscriber.topics = []
        subscriber.status = SubscriberStatus.ERASED
        subscriber.erased_at = subscriber.updated_at = now
        session.flush()
    blanked = session.execute(
        update(ConsentEvent).where(ConsentEvent.email_hash == email_hash)
        .values(email=None).execution_options(synchronize_session="fetch"))
    session.add(ConsentEvent(subscriber_id=subscriber_id, email=None, email_hash=email_hash,
                             event=ConsentEventType.ERASED, occurred_at=now, source=source))
    suppress(session, email_hash, SuppressionReason.ERASED, source, now)
    session.execute(delete(MailThrottle).where(MailThrottle.email_hash == email_hash))
    session.flush()
    return ErasureResult(subscriber_id, blanked.rowcount or 0)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_person(session: Session, settings: Settings, email: str) -> dict[str, Any]:
    """Right of access: everything held on one address, JSON-ready."""
    normalized, subscriber = lookup_email(session, email)
    email_hash = Hasher(settings).email(email_key(normalized))
    suppression = session.get(Suppression, email_hash)
    events = session.scalars(
        select(ConsentEvent).where(ConsentEvent.email_hash == email_hash)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id))
    record: dict[str, Any] | None = None
    if subscriber is not None:
        record = {
            "id": subscriber.id, "email": subscriber.email, "name": subscriber.name,
            "municipality": subscriber.municipality, "subregion": subscriber.subregion,
            "topics": subscriber.topics, "language": subscriber.language,
            "status": subscriber.status, "source": subscriber.source,
            "consent_source": subscriber.consent_note,
            **{column: _iso(getattr(subscriber, column)) for column in (
                "created_at", "updated_at", "confirmation_sent_at", "confirmed_at",
                "unsubscribed_at", "bounced_at", "complained_at", "erased_at")},
        }
    return {
        "email": normalized,
        "controller": "Werkkracht10 — Digi-weetjes",
        "subscriber": record,
        "consent_events": [
            {"event": e.event, "occurred_at": _iso(e.occurred_at), "source": e.source,
             "privacy_notice_version": e.privacy_notice_version,
             "ip_hash": e.ip_hash, "detail": e.detail}
            for e in events],
        "suppression": None if suppression is None else {
            "reason": suppression.reason, "since": _iso(suppression.created_at)},
        "note": "IP addresses are never stored; only a keyed hash of them.",
    }


def purge_expired_pending(session: Session, clock: Clock, settings: Settings, *,
                          max_age: timedelta = PENDING_RETENTION) -> int:
    """Retention: delete ``pending`` subscribers older than ``max_age`` (the scheduler's job)."""
    if max_age < MIN_PENDING_AGE:
        raise SubscriberError(
            f"te korte termijn ({max_age}): zo zouden ook net ingeschreven mensen gewist "
            f"worden; kies minstens {MIN_PENDING_AGE.days} dag")
    now = clock.now()
    cutoff = now - max_age
    expired = list(session.execute(
        select(Subscriber.id, Subscriber.email_hash)
        .where(Subscriber.status == SubscriberStatus.PENDING, Subscriber.created_at < cutoff)))
    for subscriber_id, email_hash in expired:
        session.execute(update(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber_id)
                        .values(email=None).execution_options(synchronize_session=False))
        session.add(ConsentEvent(subscriber_id=None, email=None, email_hash=email_hash,
                                 event=ConsentEventType.EXPIRED, occurred_at=now,
                                 source=Source.SYSTEM,
                                 detail=f"not confirmed within {max_age.days} days"))
        session.execute(delete(MailThrottle).where(MailThrottle.email_hash == email_hash))
        session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    session.flush()
    session.expire_all()
    return len(expired)

