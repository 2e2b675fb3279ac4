"""Mailjet's Event API: a JSON array of events (or one object), not signed.

Mailjet signs nothing; the endpoint URL configured at Mailjet carries the shared secret
(``DIGIWEETJES_WEBHOOK_SECRET``) as basic auth (``https://any:SECRET@…/webhooks/mailjet``) or
as ``?token=SECRET``. Mailjet retries an event every 30 seconds for 24 hours until it gets a
200, and its events carry no signed time: no age is checked (a repeat is recognised instead).

Events (Mailjet "Event API: real-time notifications"): ``bounce`` with ``hard_bounce`` true is
hard, else soft; ``spam``; ``unsub``. ``blocked`` (Mailjet did not even try: a preventive
block, not the address's fault), ``sent``, ``open``, ``click``: other. Mailjet gives an event
no id: it is keyed by a hash of event, ``MessageID``, address and ``time``. Our reference is
the ``CustomID``.
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
    epoch,
    event_key,
    load_json,
    objects,
    text,
)

NAME = "mailjet"
_KINDS = {"spam": Kind.COMPLAINT, "unsub": Kind.UNSUBSCRIBE}


def verify(headers: Mapping[str, str], query: Mapping[str, str], body: bytes,
           settings: Settings, now: datetime) -> str | None:
    check_shared_secret(headers, query, settings, NAME)
    return None


def parse(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[ProviderEvent]:
    return [_event(item) for item in objects(load_json(body), "mailjet events")]


def _kind(item: Mapping[str, Any]) -> Kind:
    name = item.get("event")
    if name == "bounce":
        return Kind.HARD_BOUNCE if item.get("hard_bounce") is True else Kind.SOFT_BOUNCE
    return _KINDS.get(str(name), Kind.OTHER)


def _event(item: Mapping[str, Any]) -> ProviderEvent:
    name = text(item.get("event"), 60) or "?"
    message_id = text(item.get("MessageID"), 255)
    email = text(item.get("email"))
    reason = " ".join(part for part in (text(item.get("error_related_to"), 100),
                                        text(item.get("error"), 900)) if part)
    return ProviderEvent(
        provider=NAME, event_key=event_key(name, message_id, email, item.get("time")),
        kind=_kind(item), provider_event=name, email=email,
        reference=reference_from_event(NAME, item), message_id=message_id,
        occurred_at=epoch(item.get("time")),
        detail=reason or text(item.get("source"), 100))
