"""End to end over loopback: the engine drives each adapter against the fake provider server."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from digiweetjes.cli.sending_text import summary_lines
from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.models import Delivery, Subscriber
from digiweetjes.render import RecipientData
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.recipient_links import LinkSigner
from tests.providers_support import FACTORIES, KEY
from tests.sending_support import TRICKY, add_subscriber, freeze, sample_issue

N = 120
QUICK = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=5.0)


@pytest.fixture
def sqlite_db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_every_recipient_reads_its_own_mail_exactly_once(sqlite_db, settings, name) -> None:
    db = sqlite_db
    settings = settings.with_(provider_options={"api_key": Secret(KEY)})
    clock = SystemClock()
    now = clock.now()
    regions = [("Brugge", "centrum"), ("Knokke-Heist", "noord"), (None, None)]
    for i in range(N):
        municipality, subregion = regions[i % 3]
        add_subscriber(db, settings, f"lid{i:03d}@example.be", now=now,
                       name=(f"Jan & <Piet> {TRICKY[:40]} {i}" if i % 2 else None),
                       municipality=municipality, subregion=subregion)
    compiled = sample_issue(settings, tricky=True)
    with FakeProviderServer(faults=Faults(keep_bodies=True, accepted_keys=None)) as fake:
        provider = FACTORIES[name](base_url=fake.url, timeout=QUICK)
        campaign = freeze(db, compiled, provider.name, now)
        engine = SendEngine(db, provider, compiled, settings, clock,
                            SendOptions(concurrency=3, batch_size=40))
        summary = engine.run(campaign)
        provider.close()
        assert summary.done and summary.counts["sent"] == N, summary_lines(summary)
        recorded = fake.state.deliveries()
        assert (recorded["total"], recorded["distinct"], recorded["duplicate_count"]) == \
            (N, N, 0)
        assert recorded["requests"][name] == summary.requests >= 3

        signer = LinkSigner(settings, campaign.audience_frozen_at)
        with db.session() as session:
            people = session.execute(
                select(Delivery.reference, Delivery.message_id, Subscriber.email,
                       Subscriber.name, Subscriber.subregion, Subscriber.email_hash)
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)).all()
        for reference, message_id, email, person, subregion, email_hash in people:
            assert message_id or name == "brevo"
            unsubscribe, preferences = signer.links(email_hash)
            html_values, text_values = compiled.values_for(
                RecipientData(email, person, subregion, unsubscribe, preferences))
            [message] = fake.state.recent(name, email, 5)
            assert message["reference"] == reference
            assert message["subject"] == compiled.subject
            assert message["html"] == compiled.html.fill(html_values)
            assert message["text"] == compiled.text.fill(text_values)
            assert TRICKY in message["text"]  # the providers' own syntax arrives verbatim
            assert message["headers"]["List-Unsubscribe"].startswith(f"<{unsubscribe}>")


@pytest.mark.parametrize("name", ["brevo", "postmark"])
def test_several_sending_processes_share_the_ledger(sqlite_db, settings, name) -> None:
    db = sqlite_db
    clock = SystemClock()
    from digiweetjes.devtools.synthetic import insert_subscribers

    insert_subscribers(db, settings, 900, clock.now())
    compiled = sample_issue(settings)
    with FakeProviderServer(faults=Faults(latency_ms=5)) as fake:
        def factory():
            return FACTORIES[name](base_url=fake.url, timeout=QUICK)

        provider = factory()
        campaign = freeze(db, compiled, provider.name, clock.now())
        # No pace: the fake has no rate limit (tests/test_rates.py covers the shared one).
        options = SendOptions(concurrency=2, processes=3, batch_size=30, requests_per_second=0)

        def engine_of_another_process(*, stop, share):
            return SendEngine(Database(db.url), factory(), compiled, settings, clock, options,
                              stop=stop, share=share)

        engine = SendEngine(db, provider, compiled, settings, clock, options,
                            engine_factory=engine_of_another_process)
        summary = engine.run(campaign)
        provider.close()
        recorded = fake.state.deliveries()
    assert summary.done and summary.counts["sent"] == 900 and summary.sent == 900
    assert summary.requests == 30
    assert (recorded["total"], recorded["distinct"], recorded["duplicate_count"]) == (900, 900, 0)
    with db.session() as session:
        workers = session.scalars(select(Delivery.worker_id).distinct()).all()
    assert workers == [None]  # every row recorded, no claim left behind
