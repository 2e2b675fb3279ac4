"""``apply_events``: provider events into the subscriber list, once each, in one transaction.

Every new event is stored (``webhook_events``: the address only as its keyed hash, the reason
without addresses), linked to its delivery (by our reference, else by the provider's message id
and the address), and applied through the subscriber operations
(``subscribers.choices.record_opt_outs``, the batch form of ``record_bounce``,
``record_complaint`` and ``record_unsubscribe``):

- hard bounce, complaint, unsubscribe → the subscriber's status, a consent-ledger line and the
  suppression entry; an address we hold no subscriber for is suppressed by its hash only; one
  already off the list (or suppressed) keeps its first reason;
- soft bounce → counted: once an address has soft-bounced on ``soft_bounce_limit`` different
  mails (different deliveries, or different events where no delivery was found) since it last
  became active, it is treated as a hard bounce ("3 tijdelijke bounces");
- anything else (delivered, deferred, opened, a re-subscription at the provider) is stored and
  changes nothing: only the person's own confirmed opt-in puts them back on the list.

An event stored before changes nothing, however often it comes back. Flushes, never commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.feedback import store
from digiweetjes.feedback.events import FeedbackReport, Outcome, ProviderEvent, clean_detail
from digiweetjes.models import SubscriberStatus, WebhookEventKind
from digiweetjes.subscribers.choices import OptOutResult, ReportedOptOut, record_opt_outs
from digiweetjes.subscribers.emails import InvalidEmailError, email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher

KEY_LENGTH = 200
#: The kinds that take an address off the list: the status it gets, the event's outcome.
_LEAVING: dict[WebhookEventKind, tuple[SubscriberStatus, Outcome]] = {
    WebhookEventKind.HARD_BOUNCE: (SubscriberStatus.BOUNCED, Outcome.BOUNCED),
    WebhookEventKind.COMPLAINT: (SubscriberStatus.COMPLAINED, Outcome.COMPLAINED),
    WebhookEventKind.UNSUBSCRIBE: (SubscriberStatus.UNSUBSCRIBED, Outcome.UNSUBSCRIBED),
    WebhookEventKind.SOFT_BOUNCE: (SubscriberStatus.BOUNCED, Outcome.BOUNCED),
}
_RESULTS = {OptOutResult.SUPPRESSED: Outcome.SUPPRESSED,
            OptOutResult.UNCHANGED: Outcome.UNCHANGED, OptOutResult.INVALID: Outcome.IGNORED}


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
    soft = _soft_counts(session, new, claimed)
    limit = max(1, int(settings.web.soft_bounce_limit))

    # Decided in the batch's order; the opt-outs are then written together, in that order.
    decided: list[Outcome | tuple[ReportedOptOut, Outcome]] = []
    for (event, address, _), delivery_id in zip(new, deliveries, strict=True):
        if address.normalized is None or event.kind not in _LEAVING:
            decided.append(Outcome.IGNORED)
            continue
        kind, detail = event.kind, _ledger_detail(event)
        if kind == WebhookEventKind.SOFT_BOUNCE:
            count = soft[address.hash or ""]
            count.mails.add(("d", delivery_id) if delivery_id else ("e", event.event_key))
            if len(count.mails) < limit:
                decided.append(Outcome.COUNTED)
                continue
            kind = WebhookEventKind.HARD_BOUNCE
            detail = f"{event.provider} webhook: {len(count.mails)} tijdelijke bounces"
        status, outcome = _LEAVING[kind]
        decided.append((ReportedOptOut(address.normalized, status, detail), outcome))
    applied = iter(record_opt_outs(session, clock, settings,
                                   [d[0] for d in decided if isinstance(d, tuple)]))

    results = []
    for (_, _, row_id), delivery_id, decision in zip(new, deliveries, decided, strict=True):
        outcome = decision if isinstance(decision, Outcome) else _RESULTS.get(
            next(applied), decision[1])
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
            event = replace(event, event_key=key)
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
                 claimed: dict[tuple[str, str], int]) -> dict[str, _SoftCount]:
    """The soft bounces stored before this batch, per address, since it became active."""
    soft = [a for e, a, _ in new if a.key and e.kind == WebhookEventKind.SOFT_BOUNCE]
    if not soft:
        return {}
    subscribers = store.subscribers_by_key(session, [a.key for a in soft if a.key])
    bouncing = {a.hash: subscribers.get(a.key or "") for a in soft if a.hash}
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


def _ledger_detail(event: ProviderEvent) -> str:
    """The consent ledger's line: which provider said what (no address)."""
    reason = clean_detail(event.detail)
    text = f"{event.provider} webhook: {event.provider_event}"
    return f"{text}: {reason[:200]}" if reason else text
