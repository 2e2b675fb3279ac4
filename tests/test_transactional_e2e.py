"""Transactional mail (the double opt-in confirmation) through every provider, end to end.

A real adapter from ``providers.registry.get_provider`` (settings, as the entry points build it)
against the fake provider server on loopback, a real database: exactly one message on the
provider's single-message path (Postmark: the ``outbound`` stream), no List-Unsubscribe, the
reference, the working confirmation link in HTML and text, personal values escaped per part.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.errors import ProviderError
from digiweetjes.models import ConsentEvent, MailThrottle, Subscriber
from digiweetjes.providers.registry import get_provider
from digiweetjes.subscribers import confirm, find_subscriber, send_pending_confirmations, subscribe
from digiweetjes.subscribers.hashing import Hasher
from tests.helpers_subscribers import link_token
from tests.providers_support import KEY, KEY2

DOMAIN = "mg.werkkracht10.be"
OPTIONS: dict[str, dict[str, str]] = {
    "brevo": {"api_key": KEY},
    "postmark": {"server_token": KEY},
    "sendgrid": {"api_key": KEY},
    "mailgun": {"api_key": KEY, "domain": DOMAIN},
    "mailjet": {"api_key": KEY, "secret_key": KEY2},
    "resend": {"api_key": KEY},
}
#: Each provider's single-message path (the batch paths are /email/batch and /emails/batch).
SINGLE_PATH = {
    "brevo": "/v3/smtp/email", "postmark": "/email", "sendgrid": "/v3/mail/send",
    "mailgun": f"/v3/{DOMAIN}/messages", "mailjet": "/v3.1/send", "resend": "/emails",
}
NAMES = sorted(OPTIONS)
ADDRESS = "an.peeters@voorbeeld.be"
#: Characters HTML must escape, and every provider's own template syntax.
TRICKY_NAME = 'An & <Piet> "{{ x }}" %recipient.a% {{var:x}}'


@pytest.fixture
def fake():
    with FakeProviderServer(faults=Faults(keep_bodies=True, hang_s=2.0)) as server:
        yield server


def _settings(settings: Settings, name: str, url: str) -> Settings:
    return settings.with_(provider=name, provider_options={**OPTIONS[name], "base_url": url})


def _counts(db: Database) -> tuple[int, int, int]:
    with db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                     for model in (Subscriber, ConsentEvent, MailThrottle))  # type: ignore


@pytest.mark.parametrize("name", NAMES)
def test_a_sign_up_confirmation_reaches_the_address_once_on_the_single_message_path(
        fake: FakeProviderServer, db: Database, db_settings: Settings, clock: FixedClock,
        name: str) -> None:
    settings = _settings(db_settings, name, fake.url)
    provider = get_provider(settings, clock)
    try:
        with db.session() as session:
            subscribe(session, provider, clock, settings, email=ADDRESS, name=TRICKY_NAME)
    finally:
        provider.close()

    assert fake.state.deliveries()["total"] == 1
    [message] = fake.state.recent(name, ADDRESS, 10)
    assert message["path"] == SINGLE_PATH[name]
    if name == "postmark":
        assert message["stream"] == "outbound"
    headers = {k.lower(): v for k, v in message["headers"].items()}
    assert "list-unsubscribe" not in headers and "list-unsubscribe-post" not in headers
    assert message["reference"] and message["reference"].startswith("confirm-")
    assert message["subject"] == "Bevestig je inschrijving op Digi-weetjes"
    # The personal values: escaped once in HTML, verbatim in text, never read as syntax.
    assert f"Dag {TRICKY_NAME}," in message["text"]
    assert f"Dag {html.escape(TRICKY_NAME)}," in message["html"]
    # The same working link in both parts.
    token = link_token(message["text"], "bevestigen")
    hrefs = set(re.findall(r'href="([^"]*/bevestigen/[^"]*)"', message["html"]))
    assert hrefs == {f"{settings.base_url}/bevestigen/{token}"}
    with db.session() as session:
        assert find_subscriber(session, ADDRESS).status == "pending"
        assert confirm(session, clock, settings, token).status == "active"


@pytest.mark.parametrize("name", NAMES)
def test_a_refused_confirmation_is_a_dutch_error_and_leaves_no_subscriber(
        fake: FakeProviderServer, db: Database, db_settings: Settings, clock: FixedClock,
        name: str) -> None:
    fake.state.set_faults({"reject_pattern": "^weigeraar@"})
    settings = _settings(db_settings, name, fake.url)
    provider = get_provider(settings, clock)
    try:
        with pytest.raises(ProviderError) as caught, db.session() as session:
            subscribe(session, provider, clock, settings, email="weigeraar@voorbeeld.be")
    finally:
        provider.close()
    text = str(caught.value)
    assert text.startswith("de bevestigingsmail aan weigeraar@voorbeeld.be ")
    assert f" {name}" in text and KEY not in text and KEY2 not in text
    # As optin documents: the transaction rolled back, nothing of the request is kept.
    assert _counts(db) == (0, 0, 0)
    assert fake.state.deliveries()["total"] == 0


def _pending(db: Database, settings: Settings, clock: FixedClock, count: int) -> None:
    with db.session() as session:
        for number in range(count):
            address = f"p{number}@voorbeeld.be"
            session.add(Subscriber(
                email=address, email_key=address, email_hash=Hasher(settings).email(address),
                topics=[], language="nl-BE", status="pending", source="import",
                created_at=clock.now(), updated_at=clock.now()))


@pytest.mark.parametrize("name", ["resend", "postmark"])
def test_an_imports_confirmations_wait_out_a_429_and_reach_everyone_once(
        fake: FakeProviderServer, db: Database, db_settings: Settings, clock: FixedClock,
        name: str) -> None:
    settings = _settings(db_settings, name, fake.url)
    _pending(db, settings, clock, 4)
    fake.state.set_faults({"script": ["ok", "429", "ok"], "retry_after_s": 2})
    pauses: list[float] = []
    problems: list[str] = []
    provider = get_provider(settings, clock)
    try:
        with db.session() as session:
            sent = send_pending_confirmations(session, provider, clock, settings,
                                              pause=pauses.append, problems=problems)
    finally:
        provider.close()
    assert (sent, problems) == (4, [])
    # Resend's hint (retry-after: 2); Postmark gives none: at least a second.
    assert pauses == [2.0 if name == "resend" else 1.0]
    summary = fake.state.deliveries()
    assert summary["total"] == 4 and summary["distinct"] == 4 and summary["duplicate_count"] == 0
    assert {m["path"] for m in fake.state.recent(name, None, 10)} == {SINGLE_PATH[name]}


def test_an_import_run_that_cannot_go_on_keeps_what_was_sent(
        fake: FakeProviderServer, db: Database, db_settings: Settings,
        clock: FixedClock) -> None:
    settings = _settings(db_settings, "postmark", fake.url)
    _pending(db, settings, clock, 4)
    fake.state.set_faults({"script": ["ok", "ok", "5xx", "5xx", "5xx"],
                           "reject_pattern": "^p0@"})
    problems: list[str] = []
    provider = get_provider(settings, clock)
    try:
        with db.session() as session:
            sent = send_pending_confirmations(session, provider, clock, settings,
                                              pause=lambda _s: None, problems=problems)
        # p0 refused (marked, reported), p1 sent, p2 failed three times: the run stopped.
        assert sent == 1
        assert problems[0].startswith("geweigerd: de bevestigingsmail aan p0@voorbeeld.be")
        assert problems[1].startswith("gestopt: de bevestigingsmail aan p2@voorbeeld.be")
        with db.session() as session:
            marked = session.scalars(select(Subscriber.email).where(
                Subscriber.confirmation_sent_at.is_not(None)).order_by(Subscriber.email))
            assert list(marked) == ["p0@voorbeeld.be", "p1@voorbeeld.be"]
        # The next run sends the rest, and nobody twice.
        with db.session() as session:
            assert send_pending_confirmations(session, provider, clock, settings) == 2
    finally:
        provider.close()
    summary = fake.state.deliveries()
    assert summary["total"] == 3 and summary["duplicate_count"] == 0


def test_postmarks_transactional_stream_is_a_setting_and_brevo_sends_one_to(
        db_settings: Settings, clock: FixedClock) -> None:
    import json

    import httpx

    seen: list[tuple[str, dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((request.url.path, body))
        if request.url.path == "/email":
            return httpx.Response(200, json={"ErrorCode": 0, "MessageID": "m-1"})
        return httpx.Response(201, json={"messageId": "<b-1@brevo>"})

    settings = db_settings.with_(provider="postmark", provider_options={
        "server_token": KEY, "transactional_stream": "bevestigingen"})
    from digiweetjes.subscribers.transactional import MailKind, ServiceMail, send_service_mail

    mail = ServiceMail("confirm-7-1", "an@voorbeeld.be", None,
                       {"confirm_url": "https://digiweetjes.example.be/bevestigen/t"})
    for chosen in (settings, settings.with_(provider="brevo",
                                            provider_options={"api_key": KEY})):
        provider = get_provider(chosen, clock, transport=httpx.MockTransport(handler))
        assert send_service_mail(provider, chosen, MailKind.CONFIRM, mail).status == "sent"
        provider.close()
    (postmark_path, postmark), (brevo_path, brevo) = seen
    assert postmark_path == "/email" and postmark["MessageStream"] == "bevestigingen"
    assert postmark["Metadata"]["ref"] == "confirm-7-1"
    assert [h["Name"] for h in postmark["Headers"]] == ["X-Digiweetjes-Ref"]
    assert brevo_path == "/v3/smtp/email" and "messageVersions" not in brevo
    assert brevo["to"] == [{"email": "an@voorbeeld.be"}]
    assert brevo["headers"]["X-Digiweetjes-Ref"] == "confirm-7-1"
    assert "List-Unsubscribe" not in brevo["headers"] and brevo["headers"]["idempotencyKey"]
