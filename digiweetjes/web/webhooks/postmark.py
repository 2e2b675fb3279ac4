"""Postmark's webhooks: one JSON record a request, not signed.

Postmark signs nothing; the webhook URL configured at Postmark carries the shared secret
(``DIGIWEETJES_WEBHOOK_SECRET``) as basic auth (``https://any:SECRET@…/webhooks/postmark``)
or as ``?token=SECRET``. Records carry no signed time, so no age is checked.

Records (Postmark "Webhooks" and "Bounce webhook"): ``Bounce`` by ``Type``: HardBounce,
BadEmailAddress and ManuallyDeactivated are hard; Transient, SoftBounce, DnsError and Blocked
are soft; Unsubscribe and SpamComplaint count as those; the rest (AutoResponder,
AddressChange, DMARCPolicy, Unknown…) is other. ``SpamComplaint``. ``SubscriptionChange``
with ``SuppressSending`` true is Postmark suppressing the address (for its
``SuppressionReason``: HardBounce, SpamComplaint or ManualSuppression, an unsubscribe); with
false it is a reactivation at Postmark, which puts nobody back on our list (other).
``Delivery``, ``Open``, ``Click``: other. Bounce records have an ``ID``; others are keyed by
a hash of record type, message id, address and time. Our reference is ``Metadata.ref``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digiweetjes.config import Settings
from digiweetjes.feedback import ProviderEvent
from digiweetjes.models import WebhookEventKind as Kind
from digiweetjes.providers.references import reference_from_event
from digiweetjes.web.webhooks.common import (
    check_shared_secret,
    event_key,
    iso_time,
    load_json,
    objects,
    text,
)

NAME = "postmark"
HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
SOFT = frozenset({"Transient", "SoftBounce", "DnsError", "Blocked"})
_BOUNCE_AS = {"SpamComplaint": Kind.COMPLAINT, "Unsubscribe": Kind.UNSUBSCRIBE}
_SUPPRESSION = {"HardBounce": Kind.HARD_BOUNCE, "SpamComplaint": Kind.COMPLAINT}
_TIMES = ("BouncedAt", "ChangedAt", "DeliveredAt", "ReceivedAt")


def verify(headers: Mapping[str, str], query: Mapping[str, str], body: bytes,
           settings: Settings, now: datetime) -> str | None:
    check_shared_secret(headers, query, settings, NAME)
    return None


def parse(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[ProviderEvent]:
    return [_event(item) for item in objects(load_json(body), "postmark records")]


def _kind(item: Mapping[str, Any]) -> Kind:
    record = item.get("RecordType")
    if record == "Bounce":
        kind = str(item.get("Type"))
        if kind in HARD:
            return Kind.HARD_BOUNCE
        return Kind.SOFT_BOUNCE if kind in SOFT else _BOUNCE_AS.get(kind, Kind.OTHER)
    if record == "SpamComplaint":
        return Kind.COMPLAINT
    if record == "SubscriptionChange" and item.get("SuppressSending") is True:
        return _SUPPRESSION.get(str(item.get("SuppressionReason")), Kind.UNSUBSCRIBE)
    return Kind.OTHER


def _event(item: Mapping[str, Any]) -> ProviderEvent:
    record = text(item.get("RecordType"), 40) or "?"
    name = f"{record}:{item['Type']}" if record == "Bounce" and text(item.get("Type")) else record
    email = text(item.get("Email")) or text(item.get("Recipient"))
    message_id = text(item.get("MessageID"), 255)
    stamp = next((item[t] for t in _TIMES if isinstance(item.get(t), str)), None)
    record_id = text(item.get("ID"), 100)
    key = f"{record}:{record_id}" if record_id else event_key(record, message_id, email, stamp)
    return ProviderEvent(
        provider=NAME, event_key=key, kind=_kind(item), provider_event=name[:60],
        email=email, reference=reference_from_event(NAME, item), message_id=message_id,
        occurred_at=iso_time(stamp),
        detail=text(item.get("Details"), 1000) or text(item.get("Description"), 1000)
        or text(item.get("SuppressionReason"), 100))
