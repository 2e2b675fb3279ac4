"""A provider's own suppression lists into our suppression list and consent ledger.

Applied through the same functions as the provider's webhooks (``record_bounce``,
``record_complaint``) and the admin's removal (``remove_subscriber``), so a synced opt-out is
the one a webhook would have made. An address we do not know is suppressed by its hash only,
so a later import or sign-up cannot add it unasked.

Idempotent: an address counts as already known when its subscriber has left the list (for
whatever reason: the first one stays) or, without a subscriber, when its hash is suppressed
already; only addresses still being mailed, or not suppressed at all, change, with one ledger
line each. An address on several of the provider's lists counts once, under its strongest kind
(complaint, then bounce, then unsubscribe), so every run decides it alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.models import Source, SubscriberStatus, Suppression, SuppressionReason
from digiweetjes.providers.suppressions.listing import ListedSuppression, SuppressionListing
from digiweetjes.subscribers.choices import record_bounce, record_complaint, remove_subscriber
from digiweetjes.subscribers.consent import suppress
from digiweetjes.subscribers.emails import InvalidEmailError, email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.lookup import lookup_email

#: The kinds that change our list, strongest first.
APPLIED_KINDS = ("complaint", "bounce", "unsubscribe")
_STILL_MAILED = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)


@dataclass
class KindCount:
    new: int = 0
    known: int = 0
    #: Entries whose address is not a valid address (providers list what they were sent).
    invalid: int = 0


@dataclass
class SyncReport:
    """What one sync found, per kind, and what it left alone."""

    provider: str
    requests: int
    counts: dict[str, KindCount] = field(
        default_factory=lambda: {kind: KindCount() for kind in APPLIED_KINDS})
    #: Entries not applied (kind ``other``), by the provider's list and reason.
    skipped: Counter[str] = field(default_factory=Counter)
    #: Of the new ones: subscribers taken off the list (each with a ledger line).
    opted_out: int = 0

    @property
    def new(self) -> int:
        return sum(count.new for count in self.counts.values())


def apply_provider_suppressions(session: Session, clock: Clock, settings: Settings,
                                listing: SuppressionListing) -> SyncReport:
    """Write ``listing`` into the list; flushes, never commits (the caller owns the unit)."""
    report = SyncReport(listing.provider, listing.requests)
    strongest: dict[str, ListedSuppression] = {}
    for entry in listing.entries:
        if entry.kind not in APPLIED_KINDS:
            report.skipped[entry.detail] += 1
            continue
        try:
            key = email_key(normalize_email(entry.email))
        except InvalidEmailError:
            report.counts[entry.kind].invalid += 1
            continue
        found = strongest.get(key)
        if found is None or APPLIED_KINDS.index(entry.kind) < APPLIED_KINDS.index(found.kind):
            strongest[key] = entry
    hasher = Hasher(settings)
    for key in sorted(strongest):
        entry = strongest[key]
        count = report.counts[entry.kind]
        if _already_known(session, hasher, entry.email):
            count.known += 1
        else:
            count.new += 1
            report.opted_out += _apply(session, clock, settings, hasher, entry)
    session.flush()
    return report


def _already_known(session: Session, hasher: Hasher, email: str) -> bool:
    normalized, subscriber = lookup_email(session, email)
    if subscriber is not None:
        return subscriber.status not in _STILL_MAILED
    return session.get(Suppression, hasher.email(email_key(normalized))) is not None


def _apply(session: Session, clock: Clock, settings: Settings, hasher: Hasher,
           entry: ListedSuppression) -> bool:
    """Apply one entry; True when it took a subscriber off the list (not just a hash)."""
    detail = f"sync-suppressions: {entry.detail}"
    if entry.kind == "bounce":
        return record_bounce(session, clock, settings, entry.email, permanent=True,
                             detail=detail) is not None
    if entry.kind == "complaint":
        return record_complaint(session, clock, settings, entry.email, detail=detail) is not None
    normalized, subscriber = lookup_email(session, entry.email)
    if subscriber is not None:
        remove_subscriber(session, clock, settings, entry.email, source=Source.WEBHOOK,
                          detail=detail)
        return True
    suppress(session, hasher.email(email_key(normalized)), SuppressionReason.UNSUBSCRIBED,
             Source.WEBHOOK, clock.now())
    return False
