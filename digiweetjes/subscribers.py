"""Domain operations on the subscriber list: double opt-in, preferences, opt-out, GDPR rights.

No HTTP and no environment here: every function takes its session, clock, settings (and
provider, where it mails). Functions flush but never commit; the caller owns the transaction
(``Database.session()``), so an error leaves the database unchanged.

Rules kept throughout:
- a known address subscribing again creates no duplicate and the caller learns nothing; only the
  mailbox owner does (a fresh confirmation, or "je bent al ingeschreven"), at most one mail an
  hour per address;
- an address on the suppression list (unsubscribed, complained, hard-bounced, erased) comes back
  only through a confirmation link the person asked for after leaving;
- every change of consent is a line in the append-only ledger.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digiweetjes import links
from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.emails import email_key, normalize_email
from digiweetjes.errors import SubscriberError, SuppressedError, TokenError
from digiweetjes.hashing import Hasher
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
from digiweetjes.providers.base import Provider
from digiweetjes.region_lookup import municipality_and_subregion
from digiweetjes.render.placeholders import strip_markers
from digiweetjes.tokens import Purpose, TokenClaims, make_token, read_token
from digiweetjes.topics import parse_topics
from digiweetjes.transactional import (
    PENDING_RETENTION_DAYS,
    MailKind,
    ServiceMail,
    send_service_mail,
    send_service_mails,
)

PENDING_RETENTION = timedelta(days=PENDING_RETENTION_DAYS)
MAIL_THROTTLE = timedelta(hours=1)
NAME_MAX = 200
CONSENT_NOTE_MAX = 500
LANGUAGES = ("nl-BE",)
OPTED_OUT = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED,
             SubscriberStatus.COMPLAINED)


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


#: Default of ``update_preferences`` arguments: leave this field as it is.
UNCHANGED: Final[Any] = _Unchanged()

#: Other areas register here what erase() must also blank (e.g. addresses kept on deliveries):
#: ``hook(session, subscriber_id_or_None, email_hash)``.
ERASURE_HOOKS: list[Callable[[Session, int | None, str], None]] = []


# ---------------------------------------------------------------- input cleaning


def clean_name(name: str | None) -> str | None:
    """A display name without control characters or placeholder markers; None when empty."""
    if name is None:
        return None
    text = unicodedata.normalize("NFC", name)
    if not text.isprintable():  # control or private-use characters (placeholder markers)
        text = strip_markers(text)
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if len(text) > NAME_MAX:
        raise SubscriberError(f"name is longer than {NAME_MAX} characters")
    return text or None


def clean_consent_note(note: str | None) -> str | None:
    """The stated consent source of an import or admin add; None when empty."""
    text = " ".join((note or "").split())
    if len(text) > CONSENT_NOTE_MAX:
        raise SubscriberError(f"consent source is longer than {CONSENT_NOTE_MAX} characters")
    return text or None


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise SubscriberError(f"unsupported language {language!r} (supported: {LANGUAGES})")
    return language


# ---------------------------------------------------------------- shared pieces


def _ledger(session: Session, settings: Settings, hasher: Hasher, now: datetime,
            subscriber: Subscriber | None, event: ConsentEventType, source: Source, *,
            email: str | None = None, email_hash: str | None = None, ip: str | None = None,
            detail: str | None = None, notice: bool = False) -> ConsentEvent:
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


def _suppress(session: Session, email_hash: str, reason: SuppressionReason, source: Source,
              now: datetime) -> None:
    row = session.get(Suppression, email_hash)
    if row is None:
        session.add(Suppression(email_hash=email_hash, reason=reason, source=source,
                                created_at=now, updated_at=now))
    elif row.reason != reason:
        row.reason, row.source, row.updated_at = reason, source, now


def _throttle_allows(session: Session, email_hash: str, kind: MailKind, now: datetime) -> bool:
    """True (and the mail recorded) when this address got no such mail in the last hour."""
    row = session.get(MailThrottle, email_hash)
    if row is not None and now - row.sent_at < MAIL_THROTTLE:
        return False
    if row is None:
        session.add(MailThrottle(email_hash=email_hash, kind=kind, sent_at=now))
    else:
        row.kind, row.sent_at = kind, now
    return True


def _by_email(session: Session, email: str) -> tuple[str, Subscriber | None]:
    normalized = normalize_email(email)
    key = email_key(normalized)
    found = session.scalars(select(Subscriber).where(Subscriber.email_key == key)).one_or_none()
    return normalized, found


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    """The subscriber with this address (any case), or None; InvalidEmailError if malformed."""
    return _by_email(session, email)[1]


def get_subscriber(session: Session, email: str) -> Subscriber:
    """The subscriber with this address; SubscriberError naming the address when absent."""
    found = find_subscriber(session, email)
    if found is None:
        raise SubscriberError(f"no subscriber with address {email.strip()!r}")
    return found


def suppression_of(session: Session, settings: Settings, email: str) -> Suppression | None:
    """The suppression entry of an address, or None."""
    key = email_key(normalize_email(email))
    return session.get(Suppression, Hasher(settings).email(key))


def _send_confirmation(provider: Provider, settings: Settings, clock: Clock,
                       subscriber: Subscriber) -> None:
    assert subscriber.email and subscriber.email_hash
    token = make_token(settings, clock, Purpose.CONFIRM, subscriber.id, subscriber.email_hash)
    send_service_mail(provider, settings, MailKind.CONFIRM, ServiceMail(
        reference=f"confirm-{subscriber.id}-{int(clock.now().timestamp())}",
        email=subscriber.email, name=subscriber.name,
        urls={"confirm_url": links.confirm_url(settings, token)}))
    subscriber.confirmation_sent_at = clock.now()


def _send_already_subscribed(provider: Provider, settings: Settings, clock: Clock,
                             subscriber: Subscriber) -> None:
    assert subscriber.email and subscriber.email_hash
    urls = links.subscriber_links(settings, clock, subscriber.id, subscriber.email_hash)
    send_service_mail(provider, settings, MailKind.ALREADY_SUBSCRIBED, ServiceMail(
        reference=f"already-{subscriber.id}-{int(clock.now().timestamp())}",
        email=subscriber.email, name=subscriber.name, urls=urls))


def _new_subscriber(hasher: Hasher, now: datetime, normalized: str, *, name: str | None,
                    municipality: str | None, subregion: str | None, topics: list[str],
                    language: str, status: SubscriberStatus, source: Source,
                    consent_note: str | None = None) -> Subscriber:
    key = email_key(normalized)
    return Subscriber(
        email=normalized, email_key=key, email_hash=hasher.email(key), name=name,
        municipality=municipality, subregion=subregion, topics=topics, language=language,
        status=status, source=source, consent_note=consent_note, created_at=now, updated_at=now,
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
    )


# ---------------------------------------------------------------- double opt-in


def subscribe(session: Session, provider: Provider, clock: Clock, settings: Settings, *,
              email: str, name: str | None = None, municipality: str | None = None,
              topics: Sequence[str] | str | None = None, language: str = "nl-BE",
              ip: str | None = None, source: Source = Source.FORM) -> None:
    """A subscription request (the form): a new address becomes ``pending`` with a confirmation.

    Returns nothing, whatever the address's status, so the caller cannot learn whether it is
    on the list. Invalid input (address, municipality, topic) raises SubscriberError.
    """
    hasher = Hasher(settings)
    now = clock.now()
    normalized, existing = _by_email(session, email)
    name = clean_name(name)
    municipality, subregion = municipality_and_subregion(settings, municipality)
    topic_ids = parse_topics(topics)
    language = _language(language)

    if existing is None:
        subscriber = _new_subscriber(
            hasher, now, normalized, name=name, municipality=municipality, subregion=subregion,
            topics=topic_ids, language=language, status=SubscriberStatus.PENDING, source=source)
        try:
            with session.begin_nested():
                session.add(subscriber)
                session.flush()
        except IntegrityError:
            return  # the same address was added concurrently; that request mails the person
        _ledger(session, settings, hasher, now, subscriber, ConsentEventType.SUBSCRIBED, source,
                ip=ip, notice=True)
        if _throttle_allows(session, subscriber.email_hash or "", MailKind.CONFIRM, now):
            _send_confirmation(provider, settings, clock, subscriber)
        session.flush()
        return

    # A known address: the submitted details are not applied (anyone can type any address);
    # the owner can change them through the link in the mail.
    if existing.status == SubscriberStatus.ACTIVE:
        if _throttle_allows(session, existing.email_hash or "", MailKind.ALREADY_SUBSCRIBED,
                            now):
            _send_already_subscribed(provider, settings, clock, existing)
    else:
        # pending, or opted out and asking to come back: the person must confirm (again).
        _ledger(session, settings, hasher, now, existing, ConsentEventType.SUBSCRIBED, source,
                ip=ip, notice=True)
        if _throttle_allows(session, existing.email_hash or "", MailKind.CONFIRM, now):
            _send_confirmation(provider, settings, clock, existing)
    session.flush()


def _subscriber_for(session: Session, claims: TokenClaims, what: str) -> Subscriber:
    subscriber = session.get(Subscriber, claims.subscriber_id)
    if subscriber is None or not claims.matches_email_hash(subscriber.email_hash):
        raise TokenError(f"this {what} link no longer belongs to a subscription "
                         "(the address was erased, expired or changed)")
    return subscriber


def subscriber_for_token(session: Session, clock: Clock, settings: Settings, token: str,
                         purpose: Purpose) -> Subscriber:
    """The subscriber a valid token belongs to (the web pages show their current choices)."""
    claims = read_token(settings, clock, token, purpose)
    return _subscriber_for(session, claims, purpose.value)


def confirm(session: Session, clock: Clock, settings: Settings, token: str, *,
            ip: str | None = None) -> Subscriber:
    """The confirmation link was followed: the subscriber becomes ``active`` (idempotent)."""
    claims = read_token(settings, clock, token, Purpose.CONFIRM)
    subscriber = _subscriber_for(session, claims, "confirmation")
    if subscriber.status == SubscriberStatus.ACTIVE:
        return subscriber
    opted_out = subscriber.opted_out_at
    if subscriber.status in OPTED_OUT and opted_out and claims.issued_at <= opted_out:
        # An old link must not undo a later unsubscribe; only a fresh request can.
        raise TokenError("this confirmation link is older than the unsubscription: "
                         "subscribe again to receive a new link")
    now = clock.now()
    hasher = Hasher(settings)
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = now
    subscriber.updated_at = now
    _ledger(session, settings, hasher, now, subscriber, ConsentEventType.CONFIRMED, Source.FORM,
            ip=ip, notice=True)
    # A fresh confirmed opt-in by the person is the one thing that lifts a suppression.
    session.execute(delete(Suppression).where(Suppression.email_hash == subscriber.email_hash))
    session.flush()
    return subscriber


def add_subscriber(session: Session, provider: Provider, clock: Clock, settings: Settings, *,
                   email: str, name: str | None = None, municipality: str | None = None,
                   topics: Sequence[str] | str | None = None, language: str = "nl-BE",
                   consent_source: str | None = None) -> Subscriber:
    """An admin adds one person: ``active`` with a stated consent source, else ``pending``."""
    hasher = Hasher(settings)
    now = clock.now()
    normalized, existing = _by_email(session, email)
    suppression = session.get(Suppression, hasher.email(email_key(normalized)))
    if suppression is not None:
        raise SuppressedError(
            f"{normalized} is on the suppression list ({suppression.reason} "
            f"since {suppression.created_at:%Y-%m-%d}): only the person can subscribe again, "
            "through the form and its confirmation link"
        )
    if existing is not None:
        raise SubscriberError(f"{normalized} is already on the list (status {existing.status})")
    note = clean_consent_note(consent_source)
    municipality, subregion = municipality_and_subregion(settings, municipality)
    subscriber = _new_subscriber(
        hasher, now, normalized, name=clean_name(name), municipality=municipality,
        subregion=subregion, topics=parse_topics(topics), language=_language(language),
        status=SubscriberStatus.ACTIVE if note else SubscriberStatus.PENDING,
        source=Source.ADMIN, consent_note=note)
    session.add(subscriber)
    session.flush()
    detail = f"consent source: {note}" if note else "confirmation requested"
    _ledger(session, settings, hasher, now, subscriber, ConsentEventType.SUBSCRIBED,
            Source.ADMIN, detail=detail)
    if note is None:
        _throttle_allows(session, subscriber.email_hash or "", MailKind.CONFIRM, now)
        _send_confirmation(provider, settings, clock, subscriber)
    session.flush()
    return subscriber


def send_pending_confirmations(session: Session, provider: Provider, clock: Clock,
                               settings: Settings, *, chunk: int = 1000) -> int:
    """Mail a confirmation to every ``pending`` subscriber who never got one (after an import)."""
    sent = 0
    while True:
        batch = list(session.scalars(
            select(Subscriber)
            .where(Subscriber.status == SubscriberStatus.PENDING,
                   Subscriber.confirmation_sent_at.is_(None))
            .order_by(Subscriber.id).limit(chunk)))
        if not batch:
            return sent
        now = clock.now()
        mails = [ServiceMail(
            reference=f"confirm-{s.id}-{int(now.timestamp())}", email=s.email or "", name=s.name,
            urls={"confirm_url": links.confirm_url(settings, make_token(
                settings, clock, Purpose.CONFIRM, s.id, s.email_hash or ""))})
            for s in batch]
        results = send_service_mails(provider, settings, MailKind.CONFIRM, mails)
        for subscriber, result in zip(batch, results, strict=True):
            # A refused one is marked too, so a bad address does not block the rest forever.
            subscriber.confirmation_sent_at = now
            if result.status == "sent":
                sent += 1
        session.flush()


# ---------------------------------------------------------------- the subscriber's choices


def update_preferences(session: Session, clock: Clock, settings: Settings, token: str, *,
                       name: Any = UNCHANGED, municipality: Any = UNCHANGED,
                       topics: Any = UNCHANGED, ip: str | None = None) -> Subscriber:
    """The preferences page: change name, municipality and topics (UNCHANGED leaves a field)."""
    claims = read_token(settings, clock, token, Purpose.PREFERENCES)
    subscriber = _subscriber_for(session, claims, "preferences")
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
        _ledger(session, settings, Hasher(settings), now, subscriber,
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
    _ledger(session, settings, Hasher(settings), now, subscriber, event, source, ip=ip,
            detail=detail)
    _suppress(session, subscriber.email_hash or "", reason, source, now)
    session.flush()


def unsubscribe(session: Session, clock: Clock, settings: Settings, token: str, *,
                ip: str | None = None, source: Source = Source.FORM) -> Subscriber:
    """The unsubscribe link (or RFC 8058 one-click POST); repeating it is harmless."""
    claims = read_token(settings, clock, token, Purpose.UNSUBSCRIBE)
    subscriber = _subscriber_for(session, claims, "unsubscribe")
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
        normalized, subscriber = _by_email(session, email)
    except SubscriberError:
        return None  # providers report addresses we would never have accepted
    if subscriber is None:
        _suppress(session, Hasher(settings).email(email_key(normalized)), reason,
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


# ---------------------------------------------------------------- GDPR


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
    normalized, subscriber = _by_email(session, email)
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
    _suppress(session, email_hash, SuppressionReason.ERASED, source, now)
    session.execute(delete(MailThrottle).where(MailThrottle.email_hash == email_hash))
    for hook in ERASURE_HOOKS:
        hook(session, subscriber_id, email_hash)
    session.flush()
    return ErasureResult(subscriber_id, blanked.rowcount or 0)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_person(session: Session, settings: Settings, email: str) -> dict[str, Any]:
    """Right of access: everything held on one address, JSON-ready."""
    normalized, subscriber = _by_email(session, email)
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


# ---------------------------------------------------------------- reading the list


def subscriber_query(*, status: str | None = None, municipality: str | None = None,
                     subregion: str | None = None, topic: str | None = None) -> Select[Any]:
    """The admin filters as one query; erased tombstones only when that status is asked for."""
    query = select(Subscriber)
    if status:
        query = query.where(Subscriber.status == status)
    else:
        query = query.where(Subscriber.status != SubscriberStatus.ERASED)
    if municipality:
        query = query.where(Subscriber.municipality == municipality)
    if subregion:
        query = query.where(Subscriber.subregion == subregion)
    if topic:
        query = query.where(Subscriber.has_topic(topic))
    return query


def list_subscribers(session: Session, *, status: str | None = None,
                     municipality: str | None = None, subregion: str | None = None,
                     topic: str | None = None, search: str | None = None,
                     limit: int | None = None, offset: int = 0) -> list[Subscriber]:
    """Subscribers matching the filters, oldest first; erased tombstones only when asked."""
    query = subscriber_query(status=status, municipality=municipality, subregion=subregion,
                             topic=topic)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(Subscriber.email_key.like(pattern),
                                func.lower(Subscriber.name).like(pattern)))
    query = query.order_by(Subscriber.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def consent_history(session: Session, subscriber: Subscriber) -> list[ConsentEvent]:
    """The ledger lines of a subscriber, oldest first."""
    return list(session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)))


@dataclass(frozen=True)
class ListStats:
    by_status: dict[str, int]
    by_municipality: dict[str | None, dict[str, int]]
    by_subregion: dict[str | None, dict[str, int]]
    suppressed: int
    total: int = field(default=0)


def list_stats(session: Session) -> ListStats:
    """Counts by status, and by municipality and subregion (each split by status)."""
    by_status: Counter[str] = Counter()
    by_municipality: dict[str | None, Counter[str]] = {}
    by_subregion: dict[str | None, Counter[str]] = {}
    rows = session.execute(
        select(Subscriber.status, Subscriber.municipality, Subscriber.subregion, func.count())
        .group_by(Subscriber.status, Subscriber.municipality, Subscriber.subregion))
    for status, municipality, subregion, count in rows:
        by_status[status] += count
        if status == SubscriberStatus.ERASED:
            continue
        by_municipality.setdefault(municipality, Counter())[status] += count
        by_subregion.setdefault(subregion, Counter())[status] += count
    suppressed = session.scalar(select(func.count()).select_from(Suppression)) or 0
    return ListStats(
        by_status={s.value: by_status.get(s.value, 0) for s in SubscriberStatus},
        by_municipality={k: dict(v) for k, v in by_municipality.items()},
        by_subregion={k: dict(v) for k, v in by_subregion.items()},
        suppressed=suppressed,
        total=sum(by_status.values()),
    )
