"""Resend's webhooks: one JSON event a request, signed through Svix.

Signature (Resend "Verify webhooks", Svix "Verifying payloads"): ``svix-signature`` holds one
or more space-separated ``v1,<base64 HMAC-SHA256>`` of ``svix-id.svix-timestamp.body``, keyed
with the endpoint's ``whsec_…`` secret (``DIGIWEETJES_WEBHOOK_RESEND_SECRET``). The signature is
computed by the ``svix`` package itself (``Webhook.sign``); the timestamp is checked here
against the app's clock and ``DIGIWEETJES_WEBHOOK_MAX_AGE_SECONDS`` instead of by
``Webhook.verify``, which reads the machine's clock and allows five minutes: the same check,
with the configured age and a clock the tests can set.

Events (Resend "Event types"): ``email.bounced`` with ``data.bounce.type`` ``Permanent``
(hard; also when no type is given) or ``Transient``/``Undetermined`` (soft);
``email.complained``. ``email.sent``, ``email.delivered``, ``email.delivery_delayed``,
``email.opened``, ``contact.*``…: other. The ``svix-id`` is the event's id (Svix keeps it
across retries); our reference is the ``ref`` tag (``data.tags.ref``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from svix.webhooks import Webhook

from digiweetjes.config import Settings
from digiweetjes.errors import WebhookAuthError, WebhookPayloadError
from digiweetjes.feedback import ProviderEvent
from digiweetjes.models import WebhookEventKind as Kind
from digiweetjes.providers.references import reference_from_event
from digiweetjes.web.webhooks.common import (
    check_age,
    event_key,
    iso_time,
    load_json,
    mapping,
    text,
)

NAME = "resend"
VARIABLE = "DIGIWEETJES_WEBHOOK_RESEND_SECRET"
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "svix-id", "svix-timestamp", "svix-signature"
_SOFT = frozenset({"transient", "undetermined"})


def verify(headers: Mapping[str, str], query: Mapping[str, str], body: bytes,
           settings: Settings, now: datetime) -> str | None:
    secret = settings.web.webhooks.resend_secret.reveal().strip()
    if not secret:
        raise WebhookAuthError(f"{VARIABLE} is not set: Resend webhooks cannot be verified "
                               "and are refused")
    try:
        webhook = Webhook(secret)
    except Exception as exc:  # svix raises bare errors for a secret that is not base64
        raise WebhookAuthError(f"{VARIABLE} is not a Svix secret (whsec_…)") from exc
    msg_id, stamp = headers.get(ID_HEADER), headers.get(TIMESTAMP_HEADER)
    offered = headers.get(SIGNATURE_HEADER)
    if not msg_id or not stamp or not offered:
        raise WebhookAuthError("resend: no svix-id, svix-timestamp or svix-signature header")
    moment = check_age(stamp, now, settings, "resend")
    try:
        expected = webhook.sign(msg_id, moment, body.decode("utf-8")).partition(",")[2]
    except UnicodeDecodeError as exc:
        raise WebhookAuthError("resend: the body is not UTF-8, as Svix signs it") from exc
    wanted = base64.b64decode(expected)
    if not any(_matches(part, wanted) for part in offered.split()):
        raise WebhookAuthError("resend: the signature does not match")
    return None


def _matches(versioned: str, wanted: bytes) -> bool:
    version, _, signature = versioned.partition(",")
    if version != "v1":
        return False
    try:
        return hmac.compare_digest(base64.b64decode(signature, validate=True), wanted)
    except (binascii.Error, ValueError):
        return False


def parse(body: bytes, content_type: str, headers: Mapping[str, str]) -> list[ProviderEvent]:
    payload = load_json(body)
    if not isinstance(payload, Mapping) or not isinstance(payload.get("data", {}), Mapping):
        raise WebhookPayloadError("resend: expected an object with a data object")
    data = mapping(payload.get("data"))
    name = text(payload.get("type"), 60) or "?"
    recipients = data.get("to")
    if not isinstance(recipients, list):
        recipients = [recipients]
    base_key = text(headers.get(ID_HEADER), 190) or event_key(
        name, data.get("email_id"), payload.get("created_at"))
    bounce = mapping(data.get("bounce"))
    return [ProviderEvent(
        provider=NAME, event_key=base_key if i == 0 else f"{base_key}:{i}",
        kind=_kind(name, data), provider_event=name, email=_address(recipient),
        reference=reference_from_event(NAME, payload),
        message_id=text(data.get("email_id"), 255),
        occurred_at=iso_time(payload.get("created_at")),
        detail=text(bounce.get("message"), 1000) or text(bounce.get("subType"), 100),
    ) for i, recipient in enumerate(recipients)]


def _kind(name: str, data: Mapping[str, Any]) -> Kind:
    if name == "email.bounced":
        kind = str(mapping(data.get("bounce")).get("type", "")).strip().lower()
        return Kind.SOFT_BOUNCE if kind in _SOFT else Kind.HARD_BOUNCE
    return Kind.COMPLAINT if name == "email.complained" else Kind.OTHER


def _address(value: object) -> str | None:
    """``"Name <a@b>"`` or ``"a@b"`` → the address."""
    shown = text(value, 400)
    if shown and shown.endswith(">") and "<" in shown:
        shown = shown.rsplit("<", 1)[1][:-1].strip()
    return shown or None
