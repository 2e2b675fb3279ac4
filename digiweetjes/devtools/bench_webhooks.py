"""A signed webhook batch for the web benchmark: SendGrid bounce events, signed as SendGrid signs.

SendGrid's signed event webhook: ECDSA P-256 with SHA-256 over the timestamp header followed by
the raw body; the signature (base64 DER) and the timestamp travel in the
``X-Twilio-Email-Event-Webhook-*`` headers, and the account shows the public key as base64 DER.
A fresh key pair is made per run; the app is given its public half through the environment.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from digiweetjes.devtools.synthetic import synthetic_email


@dataclass(frozen=True)
class WebhookBatch:
    """One prepared webhook request and the settings the app needs to accept it."""

    provider: str
    body: bytes
    headers: dict[str, str]
    environment: dict[str, str]


def webhook_batch(events: int, *, domain: str) -> WebhookBatch:
    """``events`` SendGrid hard-bounce events for the synthetic readers of ``domain``."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    stamp = int(time.time())
    body = json.dumps([{
        "email": synthetic_email(i, domain), "event": "bounce", "type": "bounce",
        "timestamp": stamp, "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": f"bench{i}.filter0001.12345.0", "status": "5.1.1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
    } for i in range(events)]).encode()
    signature = key.sign(str(stamp).encode() + body, ec.ECDSA(hashes.SHA256()))
    return WebhookBatch(
        provider="sendgrid", body=body,
        headers={"content-type": "application/json",
                 "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                 "X-Twilio-Email-Event-Webhook-Timestamp": str(stamp)},
        environment={"DIGIWEETJES_WEBHOOK_SENDGRID_PUBLIC_KEY":
                     base64.b64encode(public).decode()})
