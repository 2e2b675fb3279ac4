"""The subscriber's choices after joining: preferences, unsubscribing, bounces and complaints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Executor
from digiweetjes.errors import SubscriberError
from digiweetjes.models import (
    ConsentEventType,
    Source,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
)
from digiweetjes.subscribers.cleaning import clean_name
from digiweetjes.subscribers.consent import (
    consent_row,
    insert_consent,
    record_consent,
    suppress,
    upsert_suppression,
)
from digiweetjes.subscribers.driver import DriverSQL, run
from digiweetjes.subscribers.emails import email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.labels import label
from digiweetjes.subscribers.lookup import (
    ClaimedRow,
    claimed_row,
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
_STILL_MAILED = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)


def update_preferences(session: Session, clock: Clock, settings: Settings, token: str, *,
                       name: Any = UNCHANGED, municipality: Any = UNCHANGED,
                       topics: Any = UNCHANGED, ip: str | None = None) -> Subscriber:
    """The preferences page: change name, municipality and topics (UNCHANGED leaves a field)."""
    claims = read_token(settings, clock, token, Purpose.PREFERENCES)
    subscriber = subscriber_for_claims(session, claims, "voorkeurenlink")
    if subscriber.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        raise SubscriberError(f"de voorkeuren kunnen niet gewijzigd worden: de abonnee is "
                              f"{label('status', subscriber.status)}")
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


#: What leaving the list as ``status`` writes: the ledger event, suppression reason, stamp.
_LEAVING = {
    SubscriberStatus.UNSUBSCRIBED: (ConsentEventType.UNSUBSCRIBED,
                                    SuppressionReason.UNSUBSCRIBED, "unsubscribed_at"),
    SubscriberStatus.BOUNCED: (ConsentEventType.BOUNCED, SuppressionReason.BOUNCED,
                               "bounced_at"),
    SubscriberStatus.COMPLAINED: (ConsentEventType.COMPLAINED,
                                  SuppressionReason.COMPLAINED, "complained_at"),
}


def _leave(session: Session, settings: Settings, hasher: Hasher, now: datetime,
           subscriber: Subscriber, status: SubscriberStatus, source: Source, *,
           ip: str | None = None, detail: str | None = None) -> SuppressionReason:
    """The subscriber's new status and its ledger line; the reason to suppress it for."""
    event, reason, stamp = _LEAVING[status]
    subscriber.status = status
    setattr(subscriber, stamp, now)
    subscriber.updated_at = now
    record_consent(session, settings, hasher, now, subscriber, event, source, ip=ip,
                   detail=detail)
    return reason


def _opt_out(session: Session, clock: Clock, settings: Settings, subscriber: Subscriber,
             status: SubscriberStatus, source: Source, *, ip: str | None = None,
             detail: str | None = None) -> None:
    now = clock.now()
    reason = _leave(session, settings, Hasher(settings), now, subscriber, status, source,
                    ip=ip, detail=detail)
    suppress(session, subscriber.email_hash or "", reason, source, now)
    session.flush()


#: At the driver's level (``driver``), as the rest of the one-click path.
_LEAVE_IF_MAILED = DriverSQL(
    "UPDATE subscribers SET status = :status, unsubscribed_at = :now, updated_at = :now "
    f"WHERE id = :sid AND status IN ({', '.join(repr(str(s)) for s in _STILL_MAILED)})")


def unsubscribe(session: Executor, clock: Clock, settings: Settings, token: str, *,
                ip: str | None = None, source: Source = Source.FORM) -> ClaimedRow:
    """The unsubscribe link (or RFC 8058 one-click POST); repeating it is harmless.

    Returns the subscriber's id, address, hash and status afterwards (no ORM object). The
    quick path of the web's busiest write, what ``_opt_out`` writes in four statements: the
    row by its hash prefix (columns only), a conditional UPDATE (a concurrent change of status
    wins), the ledger line, and the suppression as one upsert.
    """
    claims = read_token(settings, clock, token, Purpose.UNSUBSCRIBE)
    row = claimed_row(session, claims, "uitschrijflink")
    if row.status not in _STILL_MAILED:
        return row
    now = clock.now()
    event, reason, _stamp = _LEAVING[SubscriberStatus.UNSUBSCRIBED]
    changed, _rows = run(session, _LEAVE_IF_MAILED, {
        "sid": row.id, "status": SubscriberStatus.UNSUBSCRIBED, "now": now})
    if not changed:  # another request changed it in between: say what it is now
        status = session.scalar(select(Subscriber.status).where(Subscriber.id == row.id))
        return row._replace(status=status or row.status)
    insert_consent(session, consent_row(
        settings, Hasher(settings), now, event, source, subscriber_id=row.id, email=row.email,
        email_hash=row.email_hash or "", ip=ip))
    upsert_suppression(session, row.email_hash or "", reason, source, now)
    return row._replace(status=SubscriberStatus.UNSUBSCRIBED)


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
    """A provider reported an unsubscribe (its own link, a List-Unsubscribe it handled): as
    ``remove_subscriber``, but an address we hold no subscriber for is suppressed by its hash,
    as ``record_bounce`` does, instead of refused."""
    try:
        normalized, subscriber = lookup_email(session, email)
    except SubscriberError:
        return None
    record_opt_outs(session, clock, settings,
                    [ReportedOptOut(normalized, SubscriberStatus.UNSUBSCRIBED, detail)])
    return subscriber


@dataclass(frozen=True)
class ReportedOptOut:
    """An opt-out a provider reported: the address, the status it leads to, why."""

    email: str
    status: SubscriberStatus
    detail: str | None = None


class OptOutResult(StrEnum):
    OPTED_OUT = "opted_out"      # a subscriber left the list (status, ledger line, suppressed)
    SUPPRESSED = "suppressed"    # an address we hold no subscriber for, suppressed by hash
    UNCHANGED = "unchanged"      # already off the list or suppressed: the first reason stays
    INVALID = "invalid"          # not an address we would ever have accepted


def record_opt_outs(session: Session, clock: Clock, settings: Settings,
                    opt_outs: Sequence[ReportedOptOut]) -> list[OptOutResult]:
    """Many provider-reported opt-outs (bounces, complaints, unsubscribes) in one flush, in
    order: what ``record_bounce`` and friends write, with a few queries for the whole batch.

    Unlike those, the first reason stays: a subscriber already off the list, or an unknown
    address already suppressed, is left as it is (webhooks repeat, and a complaint should not
    become a bounce because the address later bounced too). Source: webhook.
    """
    hasher = Hasher(settings)
    now = clock.now()
    keys: list[str | None] = []
    for opt_out in opt_outs:
        try:
            keys.append(email_key(normalize_email(opt_out.email)))
        except SubscriberError:
            keys.append(None)
    hashes = {key: hasher.email(key) for key in keys if key}
    wanted = sorted(hashes)
    subscribers: dict[str, Subscriber] = {}
    suppressions: dict[str, Suppression] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start:start + 500]
        subscribers.update((s.email_key or "", s) for s in session.scalars(
            select(Subscriber).where(Subscriber.email_key.in_(part))))
        suppressions.update((row.email_hash, row) for row in session.scalars(
            select(Suppression).where(Suppression.email_hash.in_([hashes[k] for k in part]))))
    results: list[OptOutResult] = []
    leaving: dict[SubscriberStatus, list[tuple[ReportedOptOut, Subscriber]]] = {}
    decided: set[str] = set()
    for opt_out, key in zip(opt_outs, keys, strict=True):
        if key is None:
            results.append(OptOutResult.INVALID)
            continue
        subscriber, email_hash = subscribers.get(key), hashes[key]
        if (subscriber is not None and subscriber.status in _STILL_MAILED
                and key not in decided):
            # Decided now (the first opt-out of an address wins), written below.
            decided.add(key)
            leaving.setdefault(opt_out.status, []).append((opt_out, subscriber))
            results.append(OptOutResult.OPTED_OUT)
        elif subscriber is None and email_hash not in suppressions:
            suppressions[email_hash] = Suppression(
                email_hash=email_hash, reason=_LEAVING[opt_out.status][1],
                source=Source.WEBHOOK, created_at=now, updated_at=now)
            session.add(suppressions[email_hash])
            results.append(OptOutResult.SUPPRESSED)
        else:
            results.append(OptOutResult.UNCHANGED)
    # One flush a status: the changed subscribers then share their set of changed columns,
    # which the ORM sends as one UPDATE for many rows instead of one statement each.
    for status, group in leaving.items():
        for opt_out, subscriber in group:
            reason = _leave(session, settings, hasher, now, subscriber, status,
                            Source.WEBHOOK, detail=opt_out.detail)
            email_hash = subscriber.email_hash or ""
            row = suppressions.get(email_hash)
            if row is None:
                suppressions[email_hash] = row = Suppression(
                    email_hash=email_hash, reason=reason, source=Source.WEBHOOK,
                    created_at=now, updated_at=now)
                session.add(row)
            elif row.reason != reason:  # as ``suppress``: the latest reason it is there for
                row.reason, row.source, row.updated_at = reason, Source.WEBHOOK, now
        session.flush()
    session.flush()
    return results
