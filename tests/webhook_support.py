"""Provider webhooks for tests: each provider's documented sample events, signed with test keys
the way that provider signs, posted to the app; and a count of every table's rows.

The samples follow each provider's own documentation (named above each); only the address,
the ids, the times and our reference are filled in per test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from svix.webhooks import Webhook

from digiweetjes.config import Secret, Settings
from digiweetjes.db import Base, Database
from digiweetjes.web.options import WebhookSecrets

PROVIDERS = ("brevo", "mailgun", "mailjet", "postmark", "resend", "sendgrid")
KINDS = ("hard", "soft", "complaint", "unsubscribe", "delivered")
SHARED_SECRET = "wh-shared-5e1f0c2a-do-not-leak"
MAILGUN_KEY = "key-mailgun-0f9e8d7c-do-not-leak"


@dataclass
class WebhookKeys:
    """Test keys: an ECDSA key pair for SendGrid, Mailgun's signing key, a Svix secret, the
    shared secret of the providers that do not sign."""

    sendgrid: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    mailgun: str = MAILGUN_KEY
    resend: str = field(
        default_factory=lambda: "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode())
    shared: str = SHARED_SECRET

    @property
    def sendgrid_public(self) -> str:
        """As SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
        der = self.sendgrid.public_key().public_bytes(Encoding.DER,
                                                       PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()

    def configure(self, settings: Settings) -> Settings:
        """``settings`` with these keys as the app's webhook secrets."""
        secrets_ = WebhookSecrets(sendgrid_public_key=Secret(self.sendgrid_public),
                                  mailgun_signing_key=Secret(self.mailgun),
                                  resend_secret=Secret(self.resend))
        return settings.with_(webhook_secret=Secret(self.shared),
                              web=replace(settings.web, webhooks=secrets_))


# -- the providers' documented sample events --------------------------------------------------


def sendgrid_event(kind: str, email: str, n: int, ref: str | None, stamp: int,
                   message_id: str | None) -> dict[str, Any]:
    # SendGrid "Event Webhook Reference", twilio.com/docs/sendgrid/for-developers/
    # tracking-events/event (bounce, blocked, spamreport, unsubscribe, delivered).
    name, extra = {
        "hard": ("bounce", {"type": "bounce", "reason": "500 unknown recipient",
                            "status": "5.0.0"}),
        "soft": ("bounce", {"type": "blocked", "reason": "500 mailbox full",
                            "status": "4.2.2"}),
        "complaint": ("spamreport", {}),
        "unsubscribe": ("unsubscribe", {}),
        "delivered": ("delivered", {"response": "250 OK"}),
    }[kind]
    event = {"email": email, "timestamp": stamp,
             "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "event": name,
             "category": ["digiweetjes-2026-12"], "sg_event_id": f"6g4ZI7SA-xmRDv57G{n:06d}==",
             "sg_message_id": f"{message_id or '14c5d75ce93.dfd.64b469'}"
                              ".filter0001.16648.5515E0B88.0", **extra}
    if ref:
        event["ref"] = ref
    return event


def mailgun_event(kind: str, email: str, n: int, ref: str | None, stamp: int,
                  message_id: str | None) -> dict[str, Any]:
    # Mailgun "Webhooks" payload samples (event-data of failed permanent/temporary,
    # complained, unsubscribed, delivered), documentation.mailgun.com/docs/mailgun/user-manual/
    # tracking-messages/#webhooks.
    name, extra = {
        "hard": ("failed", {"severity": "permanent", "reason": "bounce", "delivery-status": {
            "attempt-no": 1, "code": 550, "message": "5.1.1 The email account does not exist",
            "description": "", "session-seconds": 0.4}}),
        "soft": ("failed", {"severity": "temporary", "reason": "generic", "delivery-status": {
            "attempt-no": 1, "code": 452, "message": "4.2.2 Mailbox full",
            "description": "", "session-seconds": 0.4}}),
        "complaint": ("complained", {}),
        "unsubscribe": ("unsubscribed", {}),
        "delivered": ("delivered", {"delivery-status": {"code": 250, "message": "OK"}}),
    }[kind]
    data = {"event": name, "timestamp": stamp + 0.329574, "id": f"CPgfbmQMTCKtHW6uIWtuVe{n:06d}",
            "log-level": "error", "recipient": email, "recipient-domain": email.split("@")[1],
            "message": {"headers": {
                "to": email, "message-id": message_id or "20130503182626.18666.16540@mg.x",
                "from": "digiweetjes@werkkracht10.be", "subject": "Digi-weetjes"},
                "attachments": [], "size": 111},
            "tags": ["digiweetjes-2026-12"], "user-variables": {}, **extra}
    if ref:
        data["user-variables"] = {"digiweetjes-ref": ref}
    return data


def postmark_event(kind: str, email: str, n: int, ref: str | None, stamp: int,
                   message_id: str | None) -> dict[str, Any]:
    # Postmark "Bounce webhook", "Spam complaint webhook", "Subscription change webhook",
    # "Delivery webhook", postmarkapp.com/developer/webhooks/*.
    when = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.9070259Z")
    common = {"MessageStream": "broadcast", "Tag": "digiweetjes-2026-12",
              "MessageID": message_id or "883953f4-6105-42a2-a16a-77a8eac79483",
              "Metadata": {"ref": ref} if ref else {}, "ServerID": 23}
    bounce = {"RecordType": "Bounce", "ID": 4323372036854775000 + n, "Email": email,
              "From": "digiweetjes@werkkracht10.be", "BouncedAt": when, "DumpAvailable": True,
              "Inactive": True, "CanActivate": True, "Subject": "Digi-weetjes",
              "Content": "<Full dump of bounce>", **common}
    if kind == "hard":
        return {**bounce, "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce",
                "Description": "The server was unable to deliver your message (ex: unknown "
                               "user, mailbox not found).", "Details": "smtp;550 5.1.1"}
    if kind == "soft":
        return {**bounce, "Type": "SoftBounce", "TypeCode": 4096, "Inactive": False,
                "Name": "Soft bounce/Undeliverable", "Description": "Unable to temporarily "
                "deliver this email.", "Details": "smtp;452 4.2.2 mailbox full"}
    if kind == "complaint":
        return {**bounce, "RecordType": "SpamComplaint", "Type": "SpamComplaint",
                "TypeCode": 100001, "Name": "Spam complaint", "Description": "",
                "Details": "Test spam complaint details", "CanActivate": False}
    if kind == "unsubscribe":
        return {"RecordType": "SubscriptionChange", "ChangedAt": when, "Recipient": email,
                "Origin": "Recipient", "SuppressSending": True,
                "SuppressionReason": "ManualSuppression", **common}
    return {"RecordType": "Delivery", "Recipient": email, "DeliveredAt": when,
            "Details": "Test delivery webhook details", **common}


def mailjet_event(kind: str, email: str, n: int, ref: str | None, stamp: int,
                  message_id: str | None) -> dict[str, Any]:
    # Mailjet "Event API: real-time notifications" samples (bounce, spam, unsub, sent),
    # dev.mailjet.com/email/guides/webhooks.
    name, extra = {
        "hard": ("bounce", {"blocked": False, "hard_bounce": True,
                            "error_related_to": "recipient", "error": "user unknown"}),
        "soft": ("bounce", {"blocked": False, "hard_bounce": False,
                            "error_related_to": "mailbox", "error": "quota exceeded"}),
        "complaint": ("spam", {"source": "JMRPP"}),
        "unsubscribe": ("unsub", {"mj_list_id": 0, "ip": "127.0.0.1", "geo": "FR",
                                  "agent": "Mozilla/5.0"}),
        "delivered": ("sent", {"mj_message_id": "19421777835146490",
                               "smtp_reply": "sent (250 2.0.0 OK 1433333948 fa5si855896wjc.199"
                                             " - gsmtp)"}),
    }[kind]
    return {"event": name, "time": stamp,
            "MessageID": int(message_id) if message_id else 13792286917004336 + n,
            "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j", "email": email,
            "mj_campaign_id": 0, "mj_contact_id": 0, "customcampaign": "",
            "CustomID": ref or "", "Payload": "", **extra}


def brevo_event(kind: str, email: str, n: int, ref: str | None, stamp: int,
                message_id: str | None) -> dict[str, Any]:
    # Brevo "Transactional webhooks" samples (hard_bounce, soft_bounce, spam, unsubscribed,
    # delivered), developers.brevo.com/docs/transactional-webhooks.
    name, reason = {"hard": ("hard_bounce", "user unknown"),
                    "soft": ("soft_bounce", "mailbox full"), "complaint": ("spam", None),
                    "unsubscribe": ("unsubscribed", None),
                    "delivered": ("delivered", None)}[kind]
    event = {"event": name, "email": email, "id": 26224, "date": "2026-12-01 10:28:10",
             "ts": stamp, "message-id": message_id or "<201798300811.5787683@relay.domain.com>",
             "ts_event": stamp, "subject": "Digi-weetjes", "tag": "digiweetjes-2026-12",
             "sending_ip": "185.41.28.109", "ts_epoch": stamp * 1000,
             "tags": ["digiweetjes-2026-12"]}
    if reason:
        event["reason"] = reason
    if ref:
        event["X-Mailin-custom"] = ref
    return event


def resend_event(kind: str, email: str, n: int, ref: str | None, stamp: int,
                 message_id: str | None) -> dict[str, Any]:
    # Resend "Event types" samples (email.bounced, email.complained, email.delivered),
    # resend.com/docs/dashboard/webhooks/event-types.
    when = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.126Z")
    name = {"hard": "email.bounced", "soft": "email.bounced", "complaint": "email.complained",
            "unsubscribe": "email.complained", "delivered": "email.delivered"}[kind]
    data: dict[str, Any] = {
        "created_at": when, "email_id": message_id or f"56761188-7520-42d8-8898-{n:012d}",
        "from": "Werkkracht10 <digiweetjes@werkkracht10.be>", "to": [email],
        "subject": "Digi-weetjes", "tags": {"issue": "2026-12", **({"ref": ref} if ref else {})}}
    if kind == "hard":
        data["bounce"] = {"message": "The recipient's email address does not exist.",
                          "subType": "General", "type": "Permanent"}
    if kind == "soft":
        data["bounce"] = {"message": "Mailbox full.", "subType": "MailboxFull",
                          "type": "Transient"}
    return {"type": name, "created_at": when, "data": data}


SAMPLES = {"sendgrid": sendgrid_event, "mailgun": mailgun_event, "postmark": postmark_event,
           "mailjet": mailjet_event, "brevo": brevo_event, "resend": resend_event}
#: Providers whose request carries a JSON array of events.
BATCHED = frozenset({"sendgrid", "mailjet", "brevo"})
#: Resend reports no unsubscribes: its "unsubscribe" sample is a complaint.
KIND_OF = {"resend": {"unsubscribe": "complaint"}}


def sample(provider: str, kind: str, email: str, *, n: int = 0, ref: str | None = None,
           stamp: int = 1764579600, message_id: str | None = None) -> dict[str, Any]:
    """One documented sample event of ``provider`` for ``email`` (``n`` varies its ids)."""
    return SAMPLES[provider](kind, email, n, ref, stamp + n, message_id)


# -- signing and posting ------------------------------------------------------------------------


@dataclass
class SignedRequest:
    path: str
    body: bytes
    headers: dict[str, str]


def signed(keys: WebhookKeys, provider: str, events: list[dict[str, Any]], now: datetime, *,
           token: str | None = None) -> SignedRequest:
    """The request ``provider`` would make for ``events``, signed (or authenticated) at ``now``."""
    stamp = str(int(now.timestamp()))
    headers = {"content-type": "application/json"}
    if provider == "mailgun":
        assert len(events) == 1, "Mailgun posts one event a request"
        token = token or secrets.token_hex(25)
        signature = hmac.new(keys.mailgun.encode(), f"{stamp}{token}".encode(),
                             hashlib.sha256).hexdigest()
        body = _json({"signature": {"timestamp": stamp, "token": token,
                                    "signature": signature}, "event-data": events[0]})
        return SignedRequest("/webhooks/mailgun", body, headers)
    if provider in BATCHED:
        body = _json(events if provider != "brevo" or len(events) > 1 else events[0])
    else:
        assert len(events) == 1, f"{provider} posts one event a request"
        body = _json(events[0])
    if provider == "sendgrid":
        signature = keys.sendgrid.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers["x-twilio-email-event-webhook-signature"] = base64.b64encode(signature).decode()
        headers["x-twilio-email-event-webhook-timestamp"] = stamp
    elif provider == "resend":
        msg_id = "msg_" + hashlib.sha256(body).hexdigest()[:27]  # Svix keeps it across retries
        headers.update({"svix-id": msg_id, "svix-timestamp": stamp, "svix-signature":
                        Webhook(keys.resend).sign(msg_id, now, body.decode())})
    else:
        basic = base64.b64encode(f"{provider}:{keys.shared}".encode()).decode()
        headers["authorization"] = f"Basic {basic}"
    return SignedRequest(f"/webhooks/{provider}", body, headers)


def post(client: Any, request: SignedRequest, **changes: Any) -> Any:
    """Post a signed request (``headers=``/``body=``/``path=`` replace parts of it)."""
    request = replace(request, **changes)
    return client.post(request.path, content=request.body, headers=request.headers)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def table_counts(db: Database) -> dict[str, int]:
    """Rows in every table: a refused request must leave them all as they were."""
    with db.session() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables}
