"""``apply_events``: provider events into the subscriber list, once each, in one transaction.

Every new event is stored (``webhook_events``: the address only as its keyed hash, the reason
without addresses), linked to its delivery (by our reference, else by the provider's message id
and the address), and applied through the subscriber operations the rest of the package uses:

- hard bounce → ``record_bounce``; complaint → ``record_complaint``; unsubscribe →
  ``record_unsubscribe``; each writes the status, a consent-ledger line and the suppression
  entry, and suppresses an address we hold no subscriber for by its hash only;
- soft bounce → counted: once an address has soft-bounced on ``soft_bounce_limit`` different
  mails (different deliveries, or different events where no delivery was found) since it last
  became active, it is treated as a hard bounce ("3 tijdelijke bounces");
- anything else (delivered, deferred, opened, a re-subscription at the provider) is stored and
  changes nothing: only the person's own confirmed opt-in puts them back on the list.

An event stored before changes nothing, however often it comes back. Flushes, never commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.feedback import store
from digiweetjes.feedback.events import FeedbackReport, Outcome, ProviderEvent, clean_detail
from digiweetjes.models import Subscriber, SubscriberStatus, WebhookEventKind
from digiweetjes.subscribers.choices import record_bounce, record_complaint, record_unsubscribe
from digiweetjes.subscribers.emails import InvalidEmailError, email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher

KEY_LENGTH = 200
_MAILED = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)
_OPT_OUTS: dict[WebhookEventKind, tuple[Callable[..., Subscriber | None], Outcome]] = {
    WebhookEventKind.HARD_BOUNCE: (record_bounce, Outcome.BOUNCED),
    WebhookEventKind.COMPLAINT: (record_complaint, Outcome.COMPLAINED),
    WebhookEventKind.UNSUBSCRIBE: (record_unsubscribe, Outcome.UNSUBSCRIBED),
}


@dataclass
class _Address:
    """An event's address: its normalized form, key and keyed hash (None if unusable)."""

    normalized: str | None = None
    key: str | None = None
    hash: str | None = None


@dataclass
class _SoftCount:
    """The different mails an address soft-bounced on since it last became active."""

    since: datetime | None
    mails: set[tuple[str, object]] = field(default_factory=set)


def apply_events(session: Session, clock: Clock, settings: Settings,
                 events: Sequence[ProviderEvent]) -> FeedbackReport:
    """Store and apply ``events`` (see the module docstring); what happened, in a report."""
    report = FeedbackReport(received=len(events))
    unique = _unique(events)
    hasher = Hasher(settings)
    addresses = [_address(hasher, event.email) for event in unique]
    now = clock.now()
    claimed = store.claim(session, unique, [a.hash for a in addresses], now)
    new = [(event, address, claimed[(event.provider, event.event_key)])
           for event, address in zip(unique, addresses, strict=True)
           if (event.provider, event.event_key) in claimed]
    report.new, report.repeated = len(new), len(events) - len(new)
    if not new:
        return report

    deliveries = _deliveries(session, new)
    report.linked = sum(1 for delivery_id in deliveries if delivery_id is not None)
    subscribers = store.subscribers_by_key(session, [a.key for _, a, _ in new if a.key])
    suppressed = store.suppressed_hashes(session, [a.hash for _, a, _ in new if a.hash])
    soft = _soft_counts(session, new, subscribers, claimed)
    limit = max(1, int(settings.web.soft_bounce_limit))

    results = []
    for (event, address, row_id), delivery_id in zip(new, deliveries, strict=True):
        subscriber = subscribers.get(address.key or "")
        if address.hash is None or event.kind == WebhookEventKind.OTHER:
            outcome = Outcome.IGNORED
        elif event.kind == WebhookEventKind.SOFT_BOUNCE:
            count = soft[address.hash]
            count.mails.add(("d", delivery_id) if delivery_id else ("e", event.event_key))
            if len(count.mails) < limit:
                outcome = Outcome.COUNTED
            else:
                detail = f"{event.provider} webhook: {len(count.mails)} tijdelijke bounces"
                outcome = _opt_out(session, clock, settings, WebhookEventKind.HARD_BOUNCE,
                                   address, subscriber, suppressed, detail)
        else:
            outcome = _opt_out(session, clock, settings, event.kind, address, subscriber,
                               suppressed, _ledger_detail(event))
        report.outcomes[outcome] += 1
        results.append({"id": row_id, "outcome": outcome, "delivery_id": delivery_id})
    store.finish(session, results)
    session.flush()
    return report


def _unique(events: Sequence[ProviderEvent]) -> list[ProviderEvent]:
    """The events once each (a batch may repeat one), with keys that fit the column."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for event in events:
        key = event.event_key
        if len(key) > KEY_LENGTH or not key:
            key = "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
            event = ProviderEvent(**{**event.__dict__, "event_key": key})
        if (event.provider, key) not in seen:
            seen.add((event.provider, key))
            unique.append(event)
    return unique


def _address(hasher: Hasher, email: str | None) -> _Address:
    if not email:
        return _Address()
    try:
        normalized = normalize_email(email)
    except InvalidEmailError:
        return _Address()  # never an address we would have accepted: nothing to suppress
    key = email_key(normalized)
    return _Address(normalized, key, hasher.email(key))


def _deliveries(session: Session, new: list[tuple[ProviderEvent, _Address, int]]
                ) -> list[int | None]:
    """Each event's delivery id: by our reference, else by message id (and address hash)."""
    by_reference = store.deliveries_by_reference(
        session, [e.reference for e, _, _ in new if e.reference])
    unmatched = [e.message_id for e, _, _ in new
                 if e.message_id and by_reference.get(e.reference or "") is None]
    by_message = store.deliveries_by_message_id(session, unmatched) if unmatched else {}
    found: list[int | None] = []
    for event, address, _ in new:
        delivery_id = by_reference.get(event.reference or "")
        if delivery_id is None and event.message_id:
            candidates = by_message.get(event.message_id, [])
            mine = [d for d, h in candidates if address.hash and h == address.hash]
            delivery_id = mine[0] if mine else None
        found.append(delivery_id)
    return found


def _soft_counts(session: Session, new: list[tuple[ProviderEvent, _Address, int]],
                 subscribers: dict[str, Subscriber], claimed: dict[tuple[str, str], int]
                 ) -> dict[str, _SoftCount]:
    """The soft bounces stored before this batch, per address, since it became active."""
    bouncing = {a.hash: subscribers.get(a.key or "") for e, a, _ in new
                if a.hash and e.kind == WebhookEventKind.SOFT_BOUNCE}
    counts: dict[str, _SoftCount] = {}
    for email_hash, subscriber in bouncing.items():
        since = (subscriber.confirmed_at or subscriber.created_at) if subscriber else None
        counts[email_hash] = _SoftCount(since)
    ours = set(claimed.values())
    earlier = store.earlier_soft_bounces(session, counts)
    for email_hash, rows in earlier.items():
        count = counts[email_hash]
        for row_id, delivery_id, event_key, received_at in rows:
            if row_id in ours or (count.since is not None and received_at < count.since):
                continue
            count.mails.add(("d", delivery_id) if delivery_id else ("e", event_key))
    return counts


def _opt_out(session: Session, clock: Clock, settings: Settings, kind: WebhookEventKind,
             address: _Address, subscriber: Subscriber | None, suppressed: set[str],
             detail: str | None) -> Outcome:
    """Apply an opt-out through the subscriber operations; what it changed."""
    operation, changed = _OPT_OUTS[kind]
    assert address.normalized is not None and address.hash is not None
    if subscriber is None:
        # Someone we hold nothing on (never subscribed, erased, purged): their hash only.
        if address.hash in suppressed:
            return Outcome.UNCHANGED
        operation(session, clock, settings, address.normalized, detail=detail)
        suppressed.add(address.hash)
        return Outcome.SUPPRESSED
    if subscriber.status not in _MAILED:
        return Outcome.UNCHANGED  # already off the list: the first reason stays
    operation(session, clock, settings, address.normalized, detail=detail)
    suppressed.add(address.hash)
    return changed


def _ledger_detail(event: ProviderEvent) -> str:
    """The consent ledger's line: which provider said what (no address)."""
    reason = clean_detail(event.detail)
    text = f"{event.provider} webhook: {event.provider_event}"
    return f"{text}: {reason[:200]}" if reason else text
