"""The subscriber list's operations: double opt-in, choices, suppression, GDPR rights, reading.

No HTTP and no environment: each function takes its session, clock, settings (and provider,
where it mails). Functions flush but never commit; the caller owns the transaction, so an error
leaves the database unchanged. One exception: ``sign_up`` (the web form) takes the database and
runs its own short transactions, so that the confirmation mail is sent outside them
(``signup`` says how a failed mail is withdrawn). Every change of consent is a line in the
append-only ledger.
"""

from __future__ import annotations

from digiweetjes.subscribers.choices import (
    UNCHANGED,
    record_bounce,
    record_complaint,
    record_unsubscribe,
    remove_subscriber,
    unsubscribe,
    update_preferences,
)
from digiweetjes.subscribers.cleaning import clean_consent_note, clean_name
from digiweetjes.subscribers.gdpr import (
    ErasureResult,
    erase,
    export_person,
    purge_expired_pending,
)
from digiweetjes.subscribers.listing import (
    DeliveryLine,
    ListStats,
    consent_history,
    count_subscribers,
    deliveries_of,
    list_stats,
    list_subscribers,
    subscriber_query,
)
from digiweetjes.subscribers.lookup import (
    find_subscriber,
    get_subscriber,
    subscriber_by_id,
    subscriber_for_token,
    suppression_of,
)
from digiweetjes.subscribers.optin import (
    add_subscriber,
    confirm,
    send_pending_confirmations,
)
from digiweetjes.subscribers.signup import sign_up, subscribe

__all__ = [
    "UNCHANGED",
    "DeliveryLine",
    "ErasureResult",
    "ListStats",
    "add_subscriber",
    "clean_consent_note",
    "clean_name",
    "confirm",
    "consent_history",
    "count_subscribers",
    "deliveries_of",
    "erase",
    "export_person",
    "find_subscriber",
    "get_subscriber",
    "list_stats",
    "list_subscribers",
    "purge_expired_pending",
    "record_bounce",
    "record_complaint",
    "record_unsubscribe",
    "remove_subscriber",
    "send_pending_confirmations",
    "sign_up",
    "subscribe",
    "subscriber_by_id",
    "subscriber_for_token",
    "subscriber_query",
    "suppression_of",
    "unsubscribe",
    "update_preferences",
]
