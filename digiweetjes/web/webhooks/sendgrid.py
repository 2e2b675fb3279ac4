"""SendGrid's Event Webhook: a JSON array of events, signed with ECDSA.

Signature (SendGrid "Getting Started with the Event Webhook Security Features"): ECDSA over
P-256 with SHA-256 of ``X-Twilio-Email-Event-Webhook-Timestamp`` + the raw body, base64 (DER)
in ``X-Twilio-Email-Event-Webhook-Signature``; the verification key is the public key the
account's Mail Settings show (base64 DER SubjectPublicKeyInfo), in
``DIGIWEETJES_WEBHOOK_SENDGRID_PUBLIC_KEY``. A timestamp older than
``DIGIWEETJES_WEBHOOK_MAX_AGE_SECONDS`` is refused (a replay).

Events (SendGrid "Event Webhook Reference"): ``bounce`` with ``type`` ``bounce`` (hard) or
``blocked`` (soft); ``dropped`` because the address is on one of SendGrid's suppression lists
(``reason`` "Bounced Address", "Spam Reporting Address", "Unsubscribed Address") counts as that
kind again; ``spamreport``; ``unsubscribe`` and ``group_unsubscribe``. ``deferred`` (SendGrid
is still retrying), ``processed``, ``delivered``, ``open``, ``click``: other. Our reference is
the ``ref`` custom argument, flattened into each event; ``sg_event_id`` is the event's id.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from digiweetjes.config import Settings
from digiweetjes.errors import WebhookAuthError
from digiweetjes.feedback import ProviderEvent
from digiweetjes.models import WebhookEventKind as Kind
from digiweetjes.providers.references import reference_from_event
from digiweetjes.web.webhooks.common import (
    check_age,
    epoch,
    event_key,
    load_json,
    objects,
    text,
)

NAME = "sendgrid"
VARIABLE = "DIGIWEETJES_WEBHOOK_SENDGRID_PUBLIC_KEY"
SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"

_DROPPED = {"bounced address": Kind.HARD_BOUNCE, "spam reporting address": Kind.COMPLAINT,
            "unsubscribed address": Kind.UNSUBSCRIBE}
_SUFFIX = re.compile(r"\.(?:filter|recvd)")
_KINDS = {"spamreport": Kind.COMPLAINT, "unsubscribe": Kind.UNSUBSCRIBE,
          "group_unsubscribe": Kind.UNSUBSCRIBE}


def public_key(settings: Settings) -> ec.EllipticCurvePublicKey:
    """The configured verification key; WebhookAuthError when unset or not a P-256 key."""
    raw = settings.web.webhooks.sendgrid_public_key.reveal().strip()
    if not raw:
        raise WebhookAuthError(f"{VARIABLE} is not set: SendGrid webhooks cannot be verified "
                               "and are refused")
    try:
        key = (load_pem_public_key(raw.encode("ascii")) if raw.startswith("-----BEGIN")
               else load_der_public_key(base64.b64decode(raw, validate=True)))
    except (ValueError, binascii.Error, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise WebhookAuthError(f"{VARIABLE} is not a public key (base64 DER, as SendGrid "
                               "shows it)") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookAuthError(f"{VARIABLE} is not an elliptic-curve (ECDSA) public key")
    return key


def verify(headers: Mapping[str, str], query: Mapping[str, str], body: bytes,
           settings: Settings, now: datetime) -> str | None:
    key = public_key(settings)
    signature, stamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
    if not signature or not stamp:
        raise WebhookAuthError("sendgrid: no signature or timestamp header")
    try:
        key.verify(base64.b64decode(signature.strip(), validate=True),
                   stamp.encode("utf-8") + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise WebhookAuthError("sendgrid: the signature does not match") from exc
    # Checked after the signature: only a signed timestamp says anything.
    check_age(stamp, now, settings, "sendgrid")
    return None


def parse(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[ProviderEvent]:
    return [_event(item) for item in objects(load_json(body), "sendgrid events")]


def _request_id(sg_message_id: str | None) -> str | None:
    """The request's X-Message-Id: ``sg_message_id`` up to its ".filter…"/".recvd…" part
    (the id itself may hold dots, as in SendGrid's older samples)."""
    if not sg_message_id:
        return None
    return _SUFFIX.split(sg_message_id, maxsplit=1)[0] or None


def _kind(item: Mapping[str, Any]) -> Kind:
    name = item.get("event")
    if name == "bounce":
        return Kind.SOFT_BOUNCE if item.get("type") == "blocked" else Kind.HARD_BOUNCE
    if name == "dropped":
        return _DROPPED.get(str(item.get("reason", "")).strip().lower(), Kind.OTHER)
    return _KINDS.get(str(name), Kind.OTHER)


def _event(item: Mapping[str, Any]) -> ProviderEvent:
    name = text(item.get("event"), 60) or "?"
    sg_message_id = text(item.get("sg_message_id"), 255)
    key = text(item.get("sg_event_id"), 200) or event_key(
        name, sg_message_id, item.get("email"), item.get("timestamp"))
    return ProviderEvent(
        provider=NAME, event_key=key, kind=_kind(item), provider_event=name,
        email=text(item.get("email")),
        reference=reference_from_event(NAME, item),
        message_id=_request_id(sg_message_id),
        occurred_at=epoch(item.get("timestamp")),
        detail=text(item.get("reason"), 1000) or text(item.get("response"), 1000))
