"""The web form's sign-up (``sign_up``): stored, mailed after the commit, withdrawn when the mail
fails; on SQLite and PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import TransientProviderError
from digiweetjes.models import ConsentEvent, MailThrottle, Subscriber, Suppression
from digiweetjes.providers.base import BatchContent, Recipient, RecipientResult
from digiweetjes.subscribers import (
    confirm,
    find_subscriber,
    send_pending_confirmations,
    sign_up,
)
from digiweetjes.subscribers.signup import request_subscription
from tests.helpers_subscribers import RecordingProvider, link_token

EMAIL = "an.peeters@voorbeeld.be"


def _counts(db: Database) -> tuple[int, ...]:
    with db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                     for model in (Subscriber, ConsentEvent, MailThrottle, Suppression))


class Down(RecordingProvider):
    def send_transactional(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        raise TransientProviderError("connection refused")


def test_a_sign_up_is_stored_mailed_and_its_ledger_line_written(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    provider = RecordingProvider()
    sign_up(db, provider, clock, db_settings, email=EMAIL, name="An", ip="192.0.2.1")
    assert len(provider.sent) == 1 and provider.sent[0].recipient.email == EMAIL
    assert _counts(db) == (1, 1, 1, 0)
    with db.session() as session:
        subscriber = find_subscriber(session, EMAIL)
        assert (subscriber.status, subscriber.confirmation_sent_at) == ("pending", clock.now())
        [event] = session.scalars(select(ConsentEvent)).all()
        assert (event.event, event.subscriber_id, event.email) == (
            "subscribed", subscriber.id, EMAIL)
        assert event.privacy_notice_version == db_settings.privacy_notice_version
    with db.session() as session:
        confirm(session, clock, db_settings, link_token(provider.sent[0].text, "bevestigen"))
    assert _counts(db) == (1, 2, 1, 0)


def test_the_write_lock_is_free_while_the_mail_is_sent(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    """Another request's write transaction gets through during the provider's call."""
    others: list[bool] = []

    class Slow(RecordingProvider):
        def send_transactional(self, content: BatchContent,
                               recipient: Recipient) -> RecipientResult:
            def write() -> None:
                with db.session(write=True) as session:
                    session.add(MailThrottle(email_hash="f" * 64, kind="confirm",
                                             sent_at=clock.now()))
            other = threading.Thread(target=write)
            other.start()
            other.join(timeout=5)
            others.append(not other.is_alive())
            return super().send_transactional(content, recipient)

    sign_up(db, Slow(), clock, db_settings, email=EMAIL)
    assert others == [True]
    assert _counts(db) == (1, 1, 2, 0)


def test_a_failed_mail_is_withdrawn_whole(db: Database, db_settings: Settings,
                                         clock: FixedClock) -> None:
    with pytest.raises(TransientProviderError):
        sign_up(db, Down(), clock, db_settings, email=EMAIL)
    assert _counts(db) == (0, 0, 0, 0)
    # The next try works as a first one.
    provider = RecordingProvider()
    sign_up(db, provider, clock, db_settings, email=EMAIL)
    assert len(provider.sent) == 1 and _counts(db) == (1, 1, 1, 0)


def test_a_failed_mail_to_a_known_address_restores_its_throttle(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    provider = RecordingProvider()
    sign_up(db, provider, clock, db_settings, email=EMAIL)
    first = clock.now()
    clock.advance(hours=2)  # the throttle has passed: a new confirmation is due
    with pytest.raises(TransientProviderError):
        sign_up(db, Down(), clock, db_settings, email=EMAIL)
    with db.session() as session:
        subscriber = find_subscriber(session, EMAIL)
        assert (subscriber.status, subscriber.confirmation_sent_at) == ("pending", first)
        assert session.get(MailThrottle, subscriber.email_hash).sent_at == first
    assert _counts(db) == (1, 1, 1, 0)  # the subscriber and the first request's line stay


def test_a_throttled_request_writes_its_line_and_mails_nothing(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    provider = RecordingProvider()
    sign_up(db, provider, clock, db_settings, email=EMAIL)
    clock.advance(minutes=10)
    sign_up(db, Down(), clock, db_settings, email=EMAIL)  # throttled: the provider is not asked
    assert len(provider.sent) == 1 and _counts(db) == (1, 2, 1, 0)


def test_a_crash_before_the_send_leaves_a_row_that_send_confirmations_mails(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    with db.session(write=True) as session:  # committed; the process "dies" before the send
        assert request_subscription(session, clock, db_settings, email=EMAIL) is not None
    assert _counts(db) == (1, 0, 1, 0)
    provider = RecordingProvider()
    with db.session() as session:
        assert send_pending_confirmations(session, provider, clock, db_settings) == 1
    assert [m.recipient.email for m in provider.sent] == [EMAIL]
    with db.session() as session:
        assert find_subscriber(session, EMAIL).confirmation_sent_at == clock.now()
