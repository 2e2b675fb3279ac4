"""Mailgun's webhooks: one JSON event a request, signed with HMAC inside the body.

Signature (Mailgun "Securing Webhooks"): ``{"signature": {"timestamp", "token", "signature"},
"event-data": {…}}`` where ``signature`` is the hex HMAC-SHA256, keyed with the account's
HTTP webhook signing key (``DIGIWEETJES_WEBHOOK_MAILGUN_SIGNING_KEY``), of ``timestamp`` +
``token``. The body itself is not signed: a captured signature could carry another body, so, as
Mailgun advises, a timestamp older than ``DIGIWEETJES_WEBHOOK_MAX_AGE_SECONDS``
is refused, and so is a token seen before (``route`` remembers them for that long, per
process; the stored event id makes a replay to another process harmless all the same).

Events (Mailgun "Events" reference): ``failed`` with ``severity`` ``permanent`` (hard) or
``temporary`` (soft); ``complained``; ``unsubscribed``. Others (``delivered``, ``accepted``,
``opened``…) are other. Our reference is the ``digiweetjes-ref`` user variable; the message
id is ``message.headers.message-id``, which the send answer gave us in angle brackets. The old
form-encoded webhooks (before "webhooks v3") are not read.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digiweetjes.config import Settings
from digiweetjes.errors import WebhookAuthError, WebhookPayloadError
from digiweetjes.feedback import ProviderEvent
from digiweetjes.models import WebhookEventKind as Kind
from digiweetjes.providers.references import reference_from_event
from digiweetjes.web.webhooks.common import (
    check_age,
    epoch,
    event_key,
    load_json,
    mapping,
    text,
)

NAME = "mailgun"
VARIABLE = "DIGIWEETJES_WEBHOOK_MAILGUN_SIGNING_KEY"
_KINDS = {"complained": Kind.COMPLAINT, "unsubscribed": Kind.UNSUBSCRIBE}


def verify(headers: Mapping[str, str], query: Mapping[str, str], body: bytes,
           settings: Settings, now: datetime) -> str | None:
    key = settings.web.webhooks.mailgun_signing_key.reveal()
    if not key:
        raise WebhookAuthError(f"{VARIABLE} is not set: Mailgun webhooks cannot be verified "
                               "and are refused")
    try:
        signed = mapping(mapping(load_json(body)).get("signature"))
    except WebhookPayloadError as exc:  # the signature is inside the body
        raise WebhookAuthError("mailgun: the body is not JSON, so it carries no signature") \
            from exc
    stamp, token, signature = (signed.get(name) for name in ("timestamp", "token", "signature"))
    if not (isinstance(stamp, str | int) and isinstance(token, str)
            and isinstance(signature, str)) or not token or not signature:
        raise WebhookAuthError("mailgun: no signature in the body")
    expected = hmac.new(key.encode("utf-8"), f"{stamp}{token}".encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"),
                               signature.strip().lower().encode("utf-8")):
        raise WebhookAuthError("mailgun: the signature does not match")
    check_age(stamp, now, settings, "mailgun")
    return token


def parse(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[ProviderEvent]:
    payload = load_json(body)
    data = mapping(payload).get("event-data")
    if not isinstance(data, Mapping):
        raise WebhookPayloadError("mailgun: no event-data object")
    return [_event(payload, data)]


def _kind(data: Mapping[str, Any]) -> Kind:
    name = data.get("event")
    if name == "failed":
        severity = data.get("severity")
        return Kind.SOFT_BOUNCE if severity == "temporary" else (
            Kind.HARD_BOUNCE if severity == "permanent" else Kind.OTHER)
    return _KINDS.get(str(name), Kind.OTHER)


def _event(payload: Mapping[str, Any], data: Mapping[str, Any]) -> ProviderEvent:
    name = text(data.get("event"), 60) or "?"
    message_id = text(mapping(mapping(data.get("message")).get("headers")).get("message-id"),
                      250)
    if message_id and not message_id.startswith("<"):
        message_id = f"<{message_id}>"  # as the send answer's "id" has it
    status = mapping(data.get("delivery-status"))
    key = text(data.get("id"), 200) or event_key(
        name, message_id, data.get("recipient"), data.get("timestamp"))
    return ProviderEvent(
        provider=NAME, event_key=key, kind=_kind(data), provider_event=name,
        email=text(data.get("recipient")),
        reference=reference_from_event(NAME, payload),
        message_id=message_id, occurred_at=epoch(data.get("timestamp")),
        detail=(text(status.get("description"), 1000) or text(status.get("message"), 1000)
                or text(data.get("reason"), 1000)))
