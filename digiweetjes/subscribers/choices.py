"""The subscriber's choices after joining: preferences, unsubscribing, bounces and complaints."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import SubscriberError
from digiweetjes.models import (
    ConsentEventType,
    Source,
    Subscriber,
    SubscriberStatus,
    SuppressionReason,
)
from digiweetjes.subscribers.cleaning import clean_name
from digiweetjes.subscribers.consent import record_consent, suppress
from digiweetjes.subscribers.emails import email_key
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.lookup import (
    find_subscriber,
    get_subscriber,
    lookup_email,
    subscriber_for_claims,
)
from digiweetjes.subscribers.places import municipality_and_subregion
from digiweetjes.subscribers.tokens import Purpose, read_token
from digiweetjes.subscribers.topics import parse_topics


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


#: Default of ``update_preferences`` arguments: leave this field as it is.
UNCHANGED: Final[Any] = _Unchanged()


def update_preferences(session: Session, clock: Clock, settings: Settings, token: str, *,
                       name: Any = UNCHANGED, municipality: Any = UNCHANGED,
                       topics: Any = UNCHANGED, ip: str | None = None) -> Subscriber:
    """The preferences page: change name, municipality and topics (UNCHANGED leaves a field)."""
    claims = read_token(settings, clock, token, Purpose.PREFERENCES)
    subscriber = subscriber_for_claims(session, claims, "preferences")
    if subscriber.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        raise SubscriberError(f"preferences cannot be changed: the subscriber is "
                              f"{subscriber.status}")
    changed: list[str] = []
    if name is not UNCHANGED:
        new_name = clean_name(name)
        if new_name != subscriber.name:
            subscriber.name = new_name
            changed.append("name")
    if municipality is not UNCHANGED:
        new_municipality, subregion = municipality_and_subregion(settings, municipality)
        if new_municipality != subscriber.municipality:
            subscriber.municipality, subscriber.subregion = new_municipality, subregion
            changed.append("municipality")
    if topics is not UNCHANGED:
        new_topics = parse_topics(topics)
        if new_topics != subscriber.topics:
            subscriber.topics = new_topics
            changed.append("topics")
    if changed:
        now = clock.now()
        subscriber.updated_at = now
        record_consent(session, settings, Hasher(settings), now, subscriber,
                       ConsentEventType.PREFERENCES_CHANGED, Source.FORM, ip=ip,
                       detail="changed: " + ", ".join(changed), notice=True)
        session.flush()
    return subscriber


def _opt_out(session: Session, clock: Clock, settings: Settings, subscriber: Subscriber,
             status: SubscriberStatus, source: Source, *, ip: str | None = None,
             detail: str | None = None) -> None:
    events = {
        SubscriberStatus.UNSUBSCRIBED: (ConsentEventType.UNSUBSCRIBED,
                                        SuppressionReason.UNSUBSCRIBED, "unsubscribed_at"),
        SubscriberStatus.BOUNCED: (ConsentEventType.BOUNCED, SuppressionReason.BOUNCED,
                                   "bounced_at"),
        SubscriberStatus.COMPLAINED: (ConsentEventType.COMPLAINED,
                                      SuppressionReason.COMPLAINED, "complained_at"),
    }
    event, reason, stamp = events[status]
    now = clock.now()
    subscriber.status = status
    setattr(subscriber, stamp, now)
    subscriber.updated_at = now
    record_consent(session, settings, Hasher(settings), now, subscriber, event, source, ip=ip,
                   detail=detail)
    suppress(session, subscriber.email_hash or "", reason, source, now)
    session.flush()


def unsubscribe(session: Session, clock: Clock, settings: Settings, token: str, *,
                ip: str | None = None, source: Source = Source.FORM) -> Subscriber:
    """The unsubscribe link (or RFC 8058 one-click POST); repeating it is harmless."""
    claims = read_token(settings, clock, token, Purpose.UNSUBSCRIBE)
    subscriber = subscriber_for_claims(session, claims, "unsubscribe")
    if subscriber.status in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        _opt_out(session, clock, settings, subscriber, SubscriberStatus.UNSUBSCRIBED, source,
                 ip=ip)
    return subscriber


def remove_subscriber(session: Session, clock: Clock, settings: Settings, email: str, *,
                      source: Source = Source.ADMIN, detail: str | None = None) -> Subscriber:
    """Unsubscribe by address (admin, a mailto unsubscribe, a provider's unsubscribe event)."""
    subscriber = get_subscriber(session, email)
    if subscriber.status in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        _opt_out(session, clock, settings, subscriber, SubscriberStatus.UNSUBSCRIBED, source,
                 detail=detail)
    return subscriber


def _webhook_opt_out(session: Session, clock: Clock, settings: Settings, email: str,
                     status: SubscriberStatus, reason: SuppressionReason,
                     detail: str | None) -> Subscriber | None:
    try:
        normalized, subscriber = lookup_email(session, email)
    except SubscriberError:
        return None  # providers report addresses we would never have accepted
    if subscriber is None:
        suppress(session, Hasher(settings).email(email_key(normalized)), reason,
                 Source.WEBHOOK, clock.now())
        session.flush()
        return None
    # Webhooks are retried by providers: the same event twice must change nothing.
    if subscriber.status != status:
        _opt_out(session, clock, settings, subscriber, status, Source.WEBHOOK, detail=detail)
    return subscriber


def record_bounce(session: Session, clock: Clock, settings: Settings, email: str, *,
                  permanent: bool = True, detail: str | None = None) -> Subscriber | None:
    """A provider reported a bounce; a hard (permanent) one ends mailing and suppresses."""
    if not permanent:
        return find_subscriber(session, email)
    return _webhook_opt_out(session, clock, settings, email, SubscriberStatus.BOUNCED,
                            SuppressionReason.BOUNCED, detail)


def record_complaint(session: Session, clock: Clock, settings: Settings, email: str, *,
                     detail: str | None = None) -> Subscriber | None:
    """A provider reported a spam complaint: never mail this address again unasked."""
    return _webhook_opt_out(session, clock, settings, email, SubscriberStatus.COMPLAINED,
                            SuppressionReason.COMPLAINED, detail)


def record_unsubscribe(session: Session, clock: Clock, settings: Settings, email: str, *,
                       detail: str | None = None) -> Subscriber | None:
    """A provider reported an unsubscribe (its own link, List-Unsubscribe it handled): as
    ``remove_subscriber``, but an address we hold no subscriber for is suppressed by its hash,
    as ``record_bounce`` does, instead of refused. Leaves one already off the list as it is."""
    try:
        normalized, subscriber = lookup_email(session, email)
    except SubscriberError:
        return None
    if subscriber is None:
        suppress(session, Hasher(settings).email(email_key(normalized)),
                 SuppressionReason.UNSUBSCRIBED, Source.WEBHOOK, clock.now())
        session.flush()
    elif subscriber.status in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        _opt_out(session, clock, settings, subscriber, SubscriberStatus.UNSUBSCRIBED,
                 Source.WEBHOOK, detail=detail)
    return subscriber
