"""End to end: an issue sent through each real HTTP adapter to the fake provider on loopback;
the request bodies the fake received, turned into that provider's bounce events (as its
webhooks echo our reference), posted signed to the app: every bounced subscriber is bounced and
every event is linked to its own delivery. Also the benchmark's batch: 1,000 SendGrid events in
one request (measured, printed in the figures)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.models import Delivery, Subscriber, WebhookEvent
from digiweetjes.providers.references import reference_from_event
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from digiweetjes.subscribers.hashing import Hasher
from tests.figures import report_figure
from tests.providers_support import FACTORIES, KEY
from tests.sending_support import add_subscriber, freeze, rows, sample_issue
from tests.test_provider_references import ECHO, RecordingTransport
from tests.web_support import web_client
from tests.webhook_support import BATCHED, WebhookKeys, post, sample, signed

N = 24


def _recipient(provider: str, event: dict) -> str:
    if provider == "mailgun":
        return event["event-data"]["recipient"]
    if provider == "resend":
        return event["data"]["to"][0].rsplit("<", 1)[-1].rstrip(">")
    return (event.get("email") or event.get("Email")).rsplit("<", 1)[-1].rstrip(">")


@pytest.mark.parametrize("provider", sorted(FACTORIES))
def test_bounces_of_a_real_send_come_back_to_their_deliveries(db, db_settings, clock,
                                                              provider) -> None:
    keys = WebhookKeys()
    settings = keys.configure(db_settings.with_(provider_options={"api_key": Secret(KEY)}))
    for i in range(N):
        add_subscriber(db, settings, f"lid{i:03d}@example.be",
                       now=clock.now() - timedelta(days=1))
    compiled = sample_issue(settings)
    recording = RecordingTransport()
    with FakeProviderServer(faults=Faults(keep_bodies=False, accepted_keys=None)) as fake:
        adapter = FACTORIES[provider](base_url=fake.url, transport=recording)
        campaign = freeze(db, compiled, adapter.name, clock.now())
        summary = SendEngine(db, adapter, compiled, settings, SystemClock(),
                             SendOptions(concurrency=2, requests_per_second=0,
                                         batch_size=10)).run(campaign)
        adapter.close()
    assert summary.done and summary.counts["sent"] == N
    # What the provider was asked to send, as its events would echo it: address → reference.
    echoed = {}
    for body, content_type in recording.bodies:
        for event in ECHO[provider](body, content_type):
            echoed[_recipient(provider, event)] = reference_from_event(provider, event)
    assert len(echoed) == N and all(echoed.values())
    bounced = sorted(echoed)[::2]
    events = [sample(provider, "hard", email, n=n, ref=echoed[email])
              for n, email in enumerate(bounced)]
    with web_client(settings, db, clock) as client:
        batches = [events] if provider in BATCHED else [[e] for e in events]
        for batch in batches:
            response = post(client, signed(keys, provider, batch, clock.now()))
            assert response.status_code == 200, response.text
    with db.session() as session:
        status = dict(session.execute(select(Subscriber.email, Subscriber.status)).all())
        delivery_of = dict(session.execute(
            select(Subscriber.email_hash, Delivery.id)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)).all())
        stored = session.execute(select(WebhookEvent.email_hash, WebhookEvent.delivery_id,
                                        WebhookEvent.outcome)).all()
    assert [email for email, state in sorted(status.items()) if state == "bounced"] == bounced
    assert len(stored) == len(bounced)
    hasher = Hasher(settings)
    assert sorted(stored) == sorted((hasher.email(e), delivery_of[hasher.email(e)], "bounced")
                                    for e in bounced)


def test_a_batch_of_a_thousand_sendgrid_events(db, db_settings, clock) -> None:
    """The benchmark's webhook batch, through HTTP, signature and all (figure, not asserted)."""
    keys = WebhookKeys()
    settings = keys.configure(db_settings)
    hasher = Hasher(settings)
    then = clock.now() - timedelta(days=1)
    with db.session() as session:
        session.execute(insert(Subscriber), [
            {"email": f"m{i:04d}@example.be", "email_key": f"m{i:04d}@example.be",
             "email_hash": hasher.email(f"m{i:04d}@example.be"), "topics": [],
             "language": "nl-BE", "status": "active", "source": "admin", "created_at": then,
             "updated_at": then} for i in range(1000)])
    campaign = freeze(db, sample_issue(settings, issue_id="bulk"), "sendgrid", then)
    with db.session() as session:
        email_of = dict(session.execute(select(Subscriber.id, Subscriber.email)).all())
    kinds = ["delivered", "delivered", "delivered", "hard", "soft", "complaint", "unsubscribe",
             "delivered", "delivered", "delivered"]
    events = [sample("sendgrid", kinds[n % 10], email_of[d.subscriber_id], n=n,
                     ref=d.reference) for n, d in enumerate(rows(db, campaign.id))]
    request = signed(keys, "sendgrid", events, clock.now())
    with web_client(settings, db, clock) as client:
        started = time.perf_counter()
        response = post(client, request)
        took = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert "1000 events: 1000 new, 0 repeated, 1000 linked" in response.text
    report_figure(f"webhooks: a signed SendGrid batch of 1,000 events (30 % opt-outs and soft "
                  f"bounces) answered in {took * 1000:.0f} ms ({db.backend}, {len(request.body):,}"
                  " bytes)")
