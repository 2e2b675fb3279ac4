"""Brevo's transactional webhooks: one JSON event a request (an array in batched mode), not
signed.

Brevo signs nothing; the webhook configured at Brevo carries the shared secret
(``DIGIWEETJES_WEBHOOK_SECRET``) as basic auth, as a bearer token (its "token" authentication)
or as ``?token=SECRET`` in the URL. Brevo retries failed calls for hours, so ``ts_event`` is
not held to an age (it is not signed either: a repeat is recognised instead).

Events (Brevo "Transactional webhooks"): ``hard_bounce``, ``soft_bounce``, ``spam`` (also
``complaint``), ``unsubscribed``. ``blocked`` (Brevo's own block list: we learn of it through
``sync-suppressions``), ``deferred``, ``delivered``, ``request``, ``opened``, ``click``,
``invalid_email``, ``error``: other. Brevo gives an event no id: it is keyed by a hash of
event, ``message-id``, address and ``ts_event``. Our reference is the ``X-Mailin-custom``
header, echoed at the top level of the event.
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

NAME = "brevo"
_KINDS = {"hard_bounce": Kind.HARD_BOUNCE, "soft_bounce": Kind.SOFT_BOUNCE,
          "spam": Kind.COMPLAINT, "complaint": Kind.COMPLAINT,
          "unsubscribed": Kind.UNSUBSCRIBE}


def verify(headers: Mapping[str, str], query: Mapping[str, str], body: bytes,
           settings: Settings, now: datetime) -> str | None:
    check_shared_secret(headers, query, settings, NAME)
    return None


def parse(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[ProviderEvent]:
    return [_event(item) for item in objects(load_json(body), "brevo events")]


def _event(item: Mapping[str, Any]) -> ProviderEvent:
    name = text(item.get("event"), 60) or "?"
    message_id = text(item.get("message-id"), 255)
    email = text(item.get("email"))
    stamp = item.get("ts_event", item.get("ts"))
    return ProviderEvent(
        provider=NAME, event_key=event_key(name, message_id, email, stamp),
        kind=_KINDS.get(name, Kind.OTHER), provider_event=name, email=email,
        reference=reference_from_event(NAME, item), message_id=message_id,
        occurred_at=epoch(stamp), detail=text(item.get("reason"), 1000))
