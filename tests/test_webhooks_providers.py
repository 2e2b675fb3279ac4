"""``POST /webhooks/<provider>`` through the ASGI app, for each of the six providers with its
documented sample events, signed the way it signs: bounces, complaints and unsubscribes change
the subscriber, the suppression list and the consent ledger, and each event finds its delivery;
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from digiweetjes.models import ConsentEvent, Delivery, Subscriber, Suppression, WebhookEvent
from digiweetjes.subscribers import erase
from digiweetjes.subscribers.hashing import Hasher
from tests.sending_support import add_subscriber, freeze, rows, sample_issue
from tests.web_support import web_client
from tests.webhook_support import (
    BATCHED,
    KIND_OF,
    PROVIDERS,
    WebhookKeys,
    post,
    sample,
    signed,
    table_counts,
)

EMAILS = [f"lid{i}@example.be" for i in range(4)]


class World:
    """Four subscribers, three sent issues, the app with test keys configured."""

    def __init__(self, db, settings, clock, client, keys, mails) -> None:
        self.db, self.settings, self.clock, self.client = db, settings, clock, client
        self.keys, self.mails = keys, mails

    def post(self, provider: str, *events: dict, token: str | None = None):
        request = signed(self.keys, provider, list(events), self.clock.now(), token=token)
        return post(self.client, request)

    def subscriber(self, email: str) -> Subscriber:
        with self.db.session() as session:
            return session.scalars(select(Subscriber).where(Subscriber.email_key == email)).one()

    def suppression(self, email: str) -> str | None:
        with self.db.session() as session:
            row = session.get(Suppression, Hasher(self.settings).email(email))
            return row.reason if row else None

    def ledger(self, email: str) -> list[tuple[str, str]]:
        with self.db.session() as session:
            return [(e.event, e.source) for e in session.scalars(
                select(ConsentEvent).where(ConsentEvent.email_hash ==
                                           Hasher(self.settings).email(email))
                .order_by(ConsentEvent.id))]

    def events(self) -> list[WebhookEvent]:
        with self.db.session() as session:
            return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


@pytest.fixture
def world(db, db_settings, clock):
    keys = WebhookKeys()
    settings = keys.configure(db_settings)
    for email in EMAILS:
        add_subscriber(db, settings, email, now=clock.now() - timedelta(days=30))
    with db.session() as session:
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())
    mails = []
    for k in range(3):
        campaign = freeze(db, sample_issue(settings, issue_id=f"issue-{k}"), "x",
                          clock.now() - timedelta(days=3 - k))
        by_subscriber = {d.subscriber_id: (d.id, d.reference) for d in rows(db, campaign.id)}
        mails.append({email: by_subscriber[ids[email]] for email in EMAILS})
    with web_client(settings, db, clock) as client:
        yield World(db, settings, clock, client, keys, mails)


def kind(provider: str, name: str) -> str:
    return KIND_OF.get(provider, {}).get(name, name)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hard_bounce_takes_the_subscriber_off_the_list(world, provider) -> None:
    email = "lid0@example.be"
    delivery_id, ref = world.mails[0][email]
    response = world.post(provider, sample(provider, "hard", email, ref=ref))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert "1 new" in response.text and "bounced 1" in response.text
    assert world.subscriber(email).status == "bounced"
    assert world.suppression(email) == "bounced"
    assert world.ledger(email) == [("bounced", "webhook")]
    [stored] = world.events()
    assert (stored.provider, stored.kind, stored.outcome, stored.delivery_id) == \
        (provider, "hard_bounce", "bounced", delivery_id)
    # No address is stored with the event: its keyed hash only.
    assert stored.email_hash == Hasher(world.settings).email(email)
    assert all("@" not in (value or "") for value in (stored.detail, stored.event_key,
                                                       stored.reference))
    assert [world.subscriber(e).status for e in EMAILS[1:]] == ["active"] * 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_complaints_and_unsubscribes_take_the_subscriber_off_the_list(world, provider) -> None:
    for n, (name, email) in enumerate((("complaint", "lid1@example.be"),
                                       ("unsubscribe", "lid2@example.be"))):
        expected = {"complaint": "complained", "unsubscribe": "unsubscribed"}[kind(provider,
                                                                                   name)]
        response = world.post(provider, sample(provider, name, email, n=n,
                                               ref=world.mails[1][email][1]))
        assert response.status_code == 200, response.text
        assert world.subscriber(email).status == expected
        assert world.suppression(email) == expected
        assert world.ledger(email) == [(expected, "webhook")]
    assert {e.delivery_id for e in world.events()} == {
        world.mails[1]["lid1@example.be"][0], world.mails[1]["lid2@example.be"][0]}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_soft_bounces_count_until_the_limit(world, provider) -> None:
    email = "lid3@example.be"
    for n, mail in enumerate(world.mails):
        assert world.subscriber(email).status == "active", n
        response = world.post(provider, sample(provider, "soft", email, n=n,
                                               ref=mail[email][1]))
        assert response.status_code == 200, response.text
    # Three different mails (the default limit): a hard bounce.
    assert world.subscriber(email).status == "bounced"
    assert world.suppression(email) == "bounced"
    assert [e.outcome for e in world.events()] == ["counted", "counted", "bounced"]
    assert [e.delivery_id for e in world.events()] == [m[email][0] for m in world.mails]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_replayed_event_changes_nothing_and_is_stored_once(world, provider) -> None:
    email = "lid0@example.be"
    event = sample(provider, "hard", email, ref=world.mails[0][email][1])
    request = signed(world.keys, provider, [event], world.clock.now())
    assert post(world.client, request).status_code == 200
    before = table_counts(world.db)
    world.clock.advance(seconds=30)
    again = post(world.client, request)
    # Mailgun's token may be used once; the others answer 200 and store nothing new.
    assert again.status_code == (401 if provider == "mailgun" else 200)
    # Re-signed (a provider's retry): recognised by the event itself.
    retried = world.post(provider, event)
    assert retried.status_code == 200 and "1 repeated" in retried.text
    assert table_counts(world.db) == before
    assert len(world.events()) == 1 and world.ledger(email) == [("bounced", "webhook")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_delivered_events_are_stored_and_change_nothing(world, provider) -> None:
    email = "lid1@example.be"
    before = table_counts(world.db)
    response = world.post(provider, sample(provider, "delivered", email,
                                           ref=world.mails[2][email][1]))
    assert response.status_code == 200 and "ignored 1" in response.text
    after = table_counts(world.db)
    assert after.pop("webhook_events") == before.pop("webhook_events") + 1
    assert after == before
    [stored] = world.events()
    assert (stored.kind, stored.outcome, stored.delivery_id) == \
        ("other", "ignored", world.mails[2][email][0])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unknown_address_is_suppressed_by_its_hash_and_nobody_is_added(world,
                                                                           provider) -> None:
    before = table_counts(world.db)
    response = world.post(provider, sample(provider, "hard", "Vreemde@Elders.be"))
    assert response.status_code == 200 and "suppressed 1" in response.text
    assert world.suppression("vreemde@elders.be") == "bounced"
    after = table_counts(world.db)
    assert (after["subscribers"], after["consent_events"]) == \
        (before["subscribers"], before["consent_events"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_erased_subscribers_events_identify_nobody(world, provider) -> None:
    email = "lid2@example.be"
    with world.db.session() as session:
        erased = erase(session, world.clock, world.settings, email)
    response = world.post(provider, sample(provider, "complaint", email,
                                           ref=world.mails[0][email][1]))
    assert response.status_code == 200 and "unchanged 1" in response.text
    with world.db.session() as session:
        tombstone = session.get(Subscriber, erased.subscriber_id)
        assert (tombstone.status, tombstone.email, tombstone.email_key,
                tombstone.email_hash) == ("erased", None, None, None)
        assert session.scalars(select(Subscriber).where(Subscriber.email_key == email)) \
            .first() is None
        assert [e.email for e in session.scalars(select(ConsentEvent).where(
            ConsentEvent.email_hash == Hasher(world.settings).email(email)))] == [None]
    assert world.suppression(email) == "erased"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_without_our_reference_the_message_id_finds_the_delivery(world, provider) -> None:
    email = "lid1@example.be"
    delivery_id = world.mails[1][email][0]
    # SendGrid and Mailgun give one message id to a whole request; the others one each.
    message_id = {"sendgrid": "14c5d75ce93.dfd.64b469", "mailgun": "<20261201.1@mg.example.be>",
                  "mailjet": "19421777835146490"}.get(provider, f"<{provider}-id-1@example.be>")
    same_mail = [d for d, _ in world.mails[1].values()]
    with world.db.session() as session:
        session.execute(update(Delivery).where(Delivery.id.in_(
            same_mail if provider in ("sendgrid", "mailgun") else [delivery_id]))
            .values(message_id=message_id))
    event_id = message_id.strip("<>") if provider == "mailgun" else message_id
    response = world.post(provider, sample(provider, "delivered", email, message_id=event_id))
    assert response.status_code == 200 and "1 linked" in response.text
    [stored] = world.events()
    assert stored.reference is None and stored.delivery_id == delivery_id


@pytest.mark.parametrize("provider", sorted(BATCHED))
def test_a_batch_of_events_is_applied_in_one_request(world, provider) -> None:
    ref = world.mails[0]["lid0@example.be"][1]
    events = [sample(provider, "hard", "lid0@example.be", n=0, ref=ref),
              sample(provider, "complaint", "lid1@example.be", n=1),
              sample(provider, "delivered", "lid2@example.be", n=2),
              sample(provider, "unsubscribe", "lid3@example.be", n=3)]
    response = world.post(provider, *events)
    assert response.status_code == 200, response.text
    assert "4 events: 4 new" in response.text
    assert [world.subscriber(e).status for e in EMAILS] == \
        ["bounced", "complained", "active", "unsubscribed"]
