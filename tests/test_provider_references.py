"""Delivery references towards the providers: each adapter puts the reference where the
provider's webhook events echo it, and ``reference_from_event`` reads it back from the events'
own shapes (providers.md, and each provider's webhook documentation)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.devtools.fake_provider.dialect import form_fields
from digiweetjes.devtools.fake_provider.engines import render_mailgun
from digiweetjes.models import Delivery, Subscriber
from digiweetjes.providers.references import PROVIDERS_WITH_WEBHOOKS, reference_from_event
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.references import REFERENCE_PATTERN
from digiweetjes.subscribers.hashing import Hasher
from tests.providers_support import FACTORIES, KEY
from tests.sending_support import freeze, sample_issue

REF = "3f9c2a71d0a4e5b6c7d8e9f0a1b2c3d"
N = 1000
#: Providers that give one message id for a whole request, stored on every row of it.
ONE_ID_A_REQUEST = {"sendgrid", "mailgun"}


# -- the events as the providers post them -----------------------------------------------------

EVENTS: dict[str, dict[str, Any]] = {
    # One element of the posted JSON array; custom args are top-level keys of the event.
    "sendgrid": {"email": "lid@example.be", "timestamp": 1764580000, "event": "bounce",
                 "type": "bounce", "sg_event_id": "ZGVsaXZlcmVk", "reason": "550 5.1.1",
                 "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
                 "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "category": ["dw-2026-12"],
                 "ref": REF, "issue": "2026-12"},
    "mailgun": {"signature": {"timestamp": "1764580000", "token": "a8ce0edb2dd8",
                              "signature": "d2271d12299f6592d9d44cd9d250f0704e4674c30d"},
                "event-data": {"event": "failed", "severity": "permanent",
                               "recipient": "lid@example.be", "timestamp": 1764580000.1,
                               "message": {"headers": {
                                   "message-id": "20261201.1@mg.werkkracht10.be"}},
                               "user-variables": {"digiweetjes-ref": REF,
                                                  "digiweetjes-issue": "2026-12"}}},
    "postmark": {"RecordType": "Bounce", "ID": 42, "Type": "HardBounce", "TypeCode": 1,
                 "Tag": "dw-2026-12", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
                 "Email": "lid@example.be", "BouncedAt": "2026-12-01T09:28:10Z",
                 "Metadata": {"ref": REF, "issue": "2026-12"}, "MessageStream": "broadcast"},
    # One element of the posted JSON array.
    "mailjet": {"event": "bounce", "time": 1764580000, "MessageID": 19421777835146490,
                "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j",
                "email": "lid@example.be", "mj_campaign_id": 7173, "mj_contact_id": 320,
                "customcampaign": "", "CustomID": REF, "Payload": "", "blocked": False,
                "hard_bounce": True, "error_related_to": "recipient", "error": "user unknown"},
    "brevo": {"event": "hard_bounce", "email": "lid@example.be", "id": 26224,
              "date": "2026-12-01 10:28:10", "ts": 1764580090,
              "message-id": "<202612011028.73245151925@smtp-relay.mailin.fr>",
              "ts_event": 1764580090, "subject": "Digi-weetjes", "X-Mailin-custom": REF,
              "sending_ip": "185.41.28.109", "tags": ["dw-2026-12"], "reason": "user unknown"},
    "resend": {"type": "email.bounced", "created_at": "2026-12-01T09:28:10.000Z",
               "data": {"created_at": "2026-12-01T09:28:09.000Z",
                        "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
                        "from": "Digi-weetjes <digiweetjes@werkkracht10.be>",
                        "to": ["lid@example.be"], "subject": "Digi-weetjes",
                        "bounce": {"message": "550 5.1.1", "type": "Permanent"},
                        "tags": {"issue": "2026-12", "ref": REF}}},
}


def test_the_event_shapes_cover_every_provider_with_webhooks() -> None:
    assert set(EVENTS) == PROVIDERS_WITH_WEBHOOKS == set(FACTORIES)


@pytest.mark.parametrize("provider", sorted(EVENTS))
def test_reference_from_each_providers_event(provider: str) -> None:
    assert reference_from_event(provider, EVENTS[provider]) == REF
    # Another provider's event names no delivery here: the fields differ.
    others = [p for p in EVENTS if p != provider]
    assert all(reference_from_event(provider, EVENTS[p]) is None for p in others), provider


def test_mailgun_events_api_items_and_resend_request_shaped_tags() -> None:
    assert reference_from_event("mailgun", EVENTS["mailgun"]["event-data"]) == REF
    listed = {"type": "email.complained",
              "data": {"tags": [{"name": "issue", "value": "x"}, {"name": "ref", "value": REF}]}}
    assert reference_from_event("resend", listed) == REF
    # A service mail's reference went through safe_tag_value; it comes back decoded.
    encoded = {"data": {"tags": {"ref": "confirm-12-1764580000"}}}
    assert reference_from_event("resend", encoded) == "confirm-12-1764580000"


@pytest.mark.parametrize("event", [
    {}, {"ref": None}, {"ref": 17}, {"ref": ""}, {"ref": "a b"}, {"ref": "x' OR 1=1"},
    {"ref": "a" * 256}, {"ref": ["abc"]}])
def test_events_without_a_usable_reference_give_none(event) -> None:
    assert reference_from_event("sendgrid", event) is None
    assert reference_from_event("postmark", {"Metadata": event}) is None


def test_malformed_events_give_none() -> None:
    assert reference_from_event("mailgun", {"event-data": {"user-variables": "not a dict"}}) \
        is None
    assert reference_from_event("postmark", {"Metadata": [REF]}) is None
    assert reference_from_event("resend", {"data": "x"}) is None
    assert reference_from_event("resend", {"data": {"tags": {"ref": "_ff"}}}) is None
    assert reference_from_event("brevo", [REF]) is None  # type: ignore[arg-type]


def test_an_unknown_provider_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="outbox"):
        reference_from_event("outbox", {})


# -- what the adapters send, echoed as the provider's webhook would -----------------------------


def _json(body: bytes) -> Any:
    return json.loads(body)


def _sendgrid(body: bytes, _type: str) -> Iterator[dict[str, Any]]:
    for p in _json(body)["personalizations"]:
        yield {"email": p["to"][0]["email"], "event": "bounce", **p["custom_args"]}


def _mailgun(body: bytes, content_type: str) -> Iterator[dict[str, Any]]:
    fields = form_fields(content_type, body)
    assert fields is not None
    variables = json.loads(dict(fields)["recipient-variables"])
    custom = [(name[2:], value) for name, value in fields if name.startswith("v:")]
    for email, mine in variables.items():
        yield {"event-data": {"event": "failed", "recipient": email, "user-variables": {
            name: render_mailgun(value, mine) for name, value in custom}}}


def _postmark(body: bytes, _type: str) -> Iterator[dict[str, Any]]:
    for m in _json(body):
        yield {"RecordType": "Bounce", "Email": m["To"], "Metadata": m["Metadata"]}


def _mailjet(body: bytes, _type: str) -> Iterator[dict[str, Any]]:
    for m in _json(body)["Messages"]:
        yield {"event": "bounce", "email": m["To"][0]["Email"], "CustomID": m["CustomID"]}


def _brevo(body: bytes, _type: str) -> Iterator[dict[str, Any]]:
    data = _json(body)
    for v in data["messageVersions"]:
        # Brevo echoes the X-Mailin-custom header of the message as a top-level field.
        yield {"event": "hard_bounce", "email": v["to"][0]["email"], "tags": data["tags"],
               "X-Mailin-custom": v["headers"]["X-Mailin-custom"]}


def _resend(body: bytes, _type: str) -> Iterator[dict[str, Any]]:
    for e in _json(body):
        yield {"type": "email.bounced", "data": {
            "to": e["to"], "tags": {t["name"]: t["value"] for t in e["tags"]}}}


ECHO: dict[str, Callable[[bytes, str], Iterator[dict[str, Any]]]] = {
    "sendgrid": _sendgrid, "mailgun": _mailgun, "postmark": _postmark, "mailjet": _mailjet,
    "brevo": _brevo, "resend": _resend,
}


def _recipient_of(provider: str, event: dict[str, Any]) -> str:
    if provider == "mailgun":
        return event["event-data"]["recipient"]
    if provider == "resend":
        return event["data"]["to"][0].rsplit("<", 1)[-1].rstrip(">")
    email = event.get("email") or event.get("Email")
    return email.rsplit("<", 1)[-1].rstrip(">")


class RecordingTransport(httpx.HTTPTransport):
    """A real transport to the fake that also keeps every request body it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[tuple[bytes, str]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        with self._lock:
            self.bodies.append((body, request.headers.get("content-type", "")))
        return super().handle_request(request)


@pytest.fixture
def audience_db(db: Database, settings) -> Database:
    """The ``db`` ledger (SQLite and PostgreSQL) with N active subscribers."""
    now = SystemClock().now()
    hasher = Hasher(settings)
    with db.session() as session:
        session.execute(insert(Subscriber), [
            {"email": f"lid{i:04d}@example.be", "email_key": f"lid{i:04d}@example.be",
             "email_hash": hasher.email(f"lid{i:04d}@example.be"), "topics": [],
             "language": "nl-BE", "status": "active", "source": "admin", "created_at": now,
             "updated_at": now} for i in range(N)])
    return db


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_every_delivery_of_a_thousand_goes_out_with_its_own_reference_where_webhooks_echo_it(
        audience_db: Database, settings, name: str) -> None:
    db = audience_db
    settings = settings.with_(provider_options={"api_key": Secret(KEY)})
    clock = SystemClock()
    compiled = sample_issue(settings)
    recording = RecordingTransport()
    with FakeProviderServer(faults=Faults(keep_bodies=False, accepted_keys=None)) as fake:
        provider = FACTORIES[name](base_url=fake.url, transport=recording)
        campaign = freeze(db, compiled, provider.name, clock.now())
        summary = SendEngine(db, provider, compiled, settings, clock,
                             SendOptions(concurrency=2, requests_per_second=0)).run(campaign)
        provider.close()
        assert summary.done and summary.counts["sent"] == N
        by_fake = {m["email"]: m["reference"] for m in fake.state.recent(name, None, 2 * N)}
    with db.session() as session:
        rows = session.execute(select(Subscriber.email, Delivery.reference, Delivery.message_id)
                               .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                               .where(Delivery.campaign_id == campaign.id)).all()
    ours = {email: reference for email, reference, _ in rows}
    assert len(ours) == N and len(set(ours.values())) == N
    assert all(REFERENCE_PATTERN.fullmatch(ref) for ref in ours.values())
    # The fake reads the reference from the same field the provider's events echo.
    assert by_fake == ours
    # Every request body, turned into the events the provider would post, names each
    # recipient's own delivery.
    echoed: dict[str, str | None] = {}
    for body, content_type in recording.bodies:
        for event in ECHO[name](body, content_type):
            echoed[_recipient_of(name, event)] = reference_from_event(name, event)
    assert echoed == ours
    # Message ids: one per recipient, or one per request shared by its rows.
    message_ids = [message_id for _, _, message_id in rows]
    assert all(message_ids)
    expected = len(recording.bodies) if name in ONE_ID_A_REQUEST else N
    assert len(set(message_ids)) == expected
