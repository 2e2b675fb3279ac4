"""Domain operations of the subscriber list, on SQLite and PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import SubscriberError, SuppressedError, TokenError
from digiweetjes.models import ConsentEvent, MailThrottle, Subscriber, Suppression
from digiweetjes.subscribers import (
    UNCHANGED,
    add_subscriber,
    confirm,
    consent_history,
    erase,
    export_person,
    find_subscriber,
    list_stats,
    list_subscribers,
    purge_expired_pending,
    record_bounce,
    record_complaint,
    remove_subscriber,
    send_pending_confirmations,
    subscribe,
    unsubscribe,
    update_preferences,
)
from digiweetjes.subscribers.emails import InvalidEmailError, normalize_email
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.tokens import Purpose, make_token
from tests.helpers_subscribers import RecordingProvider, link_token

EMAIL = "Jan.Peeters@Voorbeeld.BE"


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


@pytest.fixture
def ctx(db: Database, db_settings: Settings, clock: FixedClock, provider: RecordingProvider):
    """The collaborators every operation takes."""
    return db, db_settings, clock, provider


def _subscribe(ctx, email: str = EMAIL, **kwargs) -> None:
    db, settings, clock, provider = ctx
    with db.session() as session:
        subscribe(session, provider, clock, settings, email=email, **kwargs)


def _confirm_token(provider: RecordingProvider) -> str:
    mail = provider.sent[-1]
    assert mail.kind == "confirm"
    return link_token(mail.text, "bevestigen")


def _subscribe_and_confirm(ctx, email: str = EMAIL, **kwargs) -> Subscriber:
    db, settings, clock, provider = ctx
    _subscribe(ctx, email, **kwargs)
    with db.session() as session:
        return confirm(session, clock, settings, _confirm_token(provider))


def _events(db: Database) -> list[tuple[str, str]]:
    with db.session() as session:
        return [(e.event, e.source) for e in session.scalars(
            select(ConsentEvent).order_by(ConsentEvent.id))]


def _unsubscribe_token(settings: Settings, clock: FixedClock, subscriber: Subscriber) -> str:
    return make_token(settings, clock, Purpose.UNSUBSCRIBE, subscriber.email_hash or "")


def _preferences_token(settings: Settings, clock: FixedClock, subscriber: Subscriber) -> str:
    return make_token(settings, clock, Purpose.PREFERENCES, subscriber.email_hash or "")


# ---------------------------------------------------------------- subscribe and confirm


def test_subscribe_creates_pending_and_mails_a_dutch_confirmation(ctx) -> None:
    db, settings, clock, provider = ctx
    _subscribe(ctx, name="Jan Peeters", municipality="knokke heist",
               topics=["Digitale toegang"], ip="203.0.113.9")
    with db.session() as session:
        subscriber = find_subscriber(session, "jan.peeters@voorbeeld.be")
        assert subscriber is not None
        assert subscriber.status == "pending"
        assert subscriber.email == "Jan.Peeters@voorbeeld.be"  # domain lower-cased only
        assert subscriber.municipality == "Knokke-Heist" and subscriber.subregion == "noord"
        assert subscriber.topics == ["digitale-toegang"]
        assert subscriber.source == "form"
        assert subscriber.confirmation_sent_at == clock.now()
        event = session.scalars(select(ConsentEvent)).one()
        assert event.event == "subscribed" and event.source == "form"
        assert event.privacy_notice_version == settings.privacy_notice_version
        assert event.ip_hash == Hasher(settings).ip("203.0.113.9")
        assert "203.0.113.9" not in json.dumps([event.ip_hash, event.detail])
    (mail,) = provider.sent
    assert mail.to == "Jan.Peeters@voorbeeld.be"
    assert mail.subject == "Bevestig je inschrijving op Digi-weetjes"
    assert "Dag Jan Peeters," in mail.text
    assert f"{settings.base_url}/bevestigen/" in mail.text
    assert mail.recipient.unsubscribe_url == ""  # not on the list yet: no List-Unsubscribe


def test_confirm_activates_and_is_idempotent(ctx) -> None:
    db, settings, clock, provider = ctx
    _subscribe(ctx)
    token = _confirm_token(provider)
    clock.advance(hours=2)
    with db.session() as session:
        subscriber = confirm(session, clock, settings, token, ip="198.51.100.1")
        assert subscriber.status == "active"
        assert subscriber.confirmed_at == clock.now()
    with db.session() as session:
        assert confirm(session, clock, settings, token).status == "active"
    assert _events(db) == [("subscribed", "form"), ("confirmed", "form")]


def test_confirm_refuses_expired_and_wrong_purpose_tokens(ctx) -> None:
    db, settings, clock, provider = ctx
    _subscribe(ctx)
    token = _confirm_token(provider)
    with db.session() as session:
        subscriber = find_subscriber(session, EMAIL)
        assert subscriber is not None
        wrong = _unsubscribe_token(settings, clock, subscriber)
    with pytest.raises(TokenError, match="verkeerde link"), db.session() as session:
        confirm(session, clock, settings, wrong)
    clock.advance(days=8)
    with pytest.raises(TokenError,
                       match="vervallen bevestigingslink: gemaakt op 01/12/2026"), \
            db.session() as session:
        confirm(session, clock, settings, token)
    with db.session() as session:
        assert find_subscriber(session, EMAIL).status == "pending"


def test_subscribe_refuses_invalid_input(ctx) -> None:
    for kwargs, message in (
        ({"email": "not-an-address"}, "ongeldig e-mailadres"),
        ({"email": "a@b"}, "ongeldig e-mailadres"),
        ({"email": EMAIL, "municipality": "Gent"}, "onbekende gemeente 'Gent'"),
        ({"email": EMAIL, "topics": ["koken"]}, "onbekend thema 'koken'"),
        ({"email": EMAIL, "name": "x" * 201}, "de naam is langer dan 200 tekens"),
    ):
        with pytest.raises(SubscriberError, match=message):
            _subscribe(ctx, **kwargs)
    db, *_ = ctx
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_name_is_cleaned_of_control_and_marker_characters(ctx) -> None:
    db, *_ = ctx
    _subscribe(ctx, name="  Jan\u0000 \ue000greeting\ue001  Peeters\n")
    with db.session() as session:
        assert find_subscriber(session, EMAIL).name == "Jan greeting Peeters"


def test_known_address_creates_no_duplicate_and_the_caller_learns_nothing(ctx) -> None:
    db, _settings, clock, provider = ctx
    first = _subscribe(ctx)
    clock.advance(minutes=5)
    again = _subscribe(ctx, email="JAN.PEETERS@voorbeeld.be", name="Iemand Anders",
                       municipality="Brugge")
    assert first is None and again is None
    with db.session() as session:
        (only,) = session.scalars(select(Subscriber)).all()
        assert only.name is None and only.municipality is None  # the form did not overwrite
    # Within the hour: no second mail.
    assert len(provider.sent) == 1
    clock.advance(hours=1)
    _subscribe(ctx, email="jan.peeters@VOORBEELD.be")
    assert [m.kind for m in provider.sent] == ["confirm", "confirm"]


def test_active_address_gets_already_subscribed_mail_at_most_hourly(ctx) -> None:
    db, settings, clock, provider = ctx
    _subscribe_and_confirm(ctx)
    provider.clear()
    clock.advance(hours=2)
    _subscribe(ctx)
    _subscribe(ctx)
    clock.advance(minutes=59)
    _subscribe(ctx)
    assert [m.kind for m in provider.sent] == ["already-subscribed"]
    mail = provider.sent[0]
    assert mail.subject == "Je bent al ingeschreven op Digi-weetjes"
    assert "/voorkeuren/" in mail.text and "/uitschrijven/" in mail.text
    assert mail.recipient.unsubscribe_url.startswith(f"{settings.base_url}/uitschrijven/")
    clock.advance(minutes=2)
    _subscribe(ctx)
    assert [m.kind for m in provider.sent] == ["already-subscribed", "already-subscribed"]
    with db.session() as session:
        assert find_subscriber(session, EMAIL).status == "active"
    # No consent event for a mere repeat: the person is on the list already.
    assert [e for e, _ in _events(db)] == ["subscribed", "confirmed"]


def test_admin_add_with_consent_source_is_active_without_mail(ctx) -> None:
    db, settings, clock, provider = ctx
    with db.session() as session:
        subscriber = add_subscriber(session, provider, clock, settings, email=EMAIL,
                                    municipality="Torhout",
                                    consent_source="papieren formulier infosessie")
        assert subscriber.status == "active" and subscriber.subregion == "west"
    assert provider.sent == []
    with db.session() as session:
        (event,) = session.scalars(select(ConsentEvent)).all()
        assert event.source == "admin"
        assert "papieren formulier infosessie" in (event.detail or "")


def test_admin_add_without_consent_source_is_pending_with_mail(ctx) -> None:
    db, settings, clock, provider = ctx
    with db.session() as session:
        assert add_subscriber(session, provider, clock, settings,
                              email=EMAIL).status == "pending"
    assert [m.kind for m in provider.sent] == ["confirm"]
    with pytest.raises(SubscriberError,
                       match="staat al op de lijst \\(status: wacht op bevestiging\\)"), \
            db.session() as session:
        add_subscriber(session, provider, clock, settings, email=EMAIL.lower())


# ---------------------------------------------------------------- unsubscribe, suppression


def test_unsubscribe_suppresses_and_is_idempotent(ctx) -> None:
    db, settings, clock, _provider = ctx
    subscriber = _subscribe_and_confirm(ctx)
    token = _unsubscribe_token(settings, clock, subscriber)
    clock.advance(days=3)
    with db.session() as session:
        assert unsubscribe(session, clock, settings, token).status == "unsubscribed"
    with db.session() as session:
        assert unsubscribe(session, clock, settings, token).status == "unsubscribed"
        row = session.get(Suppression, subscriber.email_hash)
        assert row is not None and row.reason == "unsubscribed"
        assert find_subscriber(session, EMAIL).unsubscribed_at == clock.now()
    assert [e for e, _ in _events(db)] == ["subscribed", "confirmed", "unsubscribed"]


def test_unsubscribe_refuses_forged_token(ctx) -> None:
    db, settings, clock, _ = ctx
    _subscribe_and_confirm(ctx)
    forged = make_token(settings, clock, Purpose.UNSUBSCRIBE, "00" * 32)
    with pytest.raises(TokenError,
                       match="hoort niet meer bij een inschrijving"), \
            db.session() as session:
        unsubscribe(session, clock, settings, forged)
    with pytest.raises(TokenError), db.session() as session:
        unsubscribe(session, clock, settings, "x" + forged)


def test_unsubscribed_person_never_comes_back_by_accident(ctx) -> None:
    db, settings, clock, provider = ctx
    subscriber = _subscribe_and_confirm(ctx)
    old_confirm_token = _confirm_token(provider)
    clock.advance(hours=1)
    with db.session() as session:
        unsubscribe(session, clock, settings, _unsubscribe_token(settings, clock, subscriber))
    clock.advance(hours=1)
    # The old confirmation link (still within 7 days) must not re-activate.
    with pytest.raises(TokenError, match="ouder dan de uitschrijving"), \
            db.session() as session:
        confirm(session, clock, settings, old_confirm_token)
    # Neither an admin add nor an import (see test_csv_import) can re-add the address.
    with pytest.raises(SuppressedError,
                       match="staat op de blokkeerlijst \\(uitgeschreven sinds"), \
            db.session() as session:
        add_subscriber(session, provider, clock, settings, email=EMAIL, consent_source="x")
    with db.session() as session:
        assert find_subscriber(session, EMAIL).status == "unsubscribed"


def test_fresh_confirmed_opt_in_lifts_the_suppression(ctx) -> None:
    db, settings, clock, provider = ctx
    subscriber = _subscribe_and_confirm(ctx)
    clock.advance(hours=1)
    with db.session() as session:
        unsubscribe(session, clock, settings, _unsubscribe_token(settings, clock, subscriber))
    clock.advance(hours=2)
    provider.clear()
    _subscribe(ctx)
    with db.session() as session:
        assert find_subscriber(session, EMAIL).status == "unsubscribed"  # until confirmed
        assert session.get(Suppression, subscriber.email_hash) is not None
    clock.advance(minutes=10)
    with db.session() as session:
        assert confirm(session, clock, settings, _confirm_token(provider)).status == "active"
        assert session.get(Suppression, subscriber.email_hash) is None
        (only,) = session.scalars(select(Subscriber)).all()
        assert only.id == subscriber.id


def test_remove_by_admin_unsubscribes(ctx) -> None:
    db, settings, clock, _ = ctx
    _subscribe_and_confirm(ctx)
    with db.session() as session:
        assert remove_subscriber(session, clock, settings, EMAIL.upper()).status \
            == "unsubscribed"
    assert _events(db)[-1] == ("unsubscribed", "admin")
    with pytest.raises(SubscriberError,
                       match=r"geen abonnee met het adres 'nobody@voorbeeld\.be'"), \
            db.session() as session:
        remove_subscriber(session, clock, settings, "nobody@voorbeeld.be")


def test_hard_bounce_and_complaint_suppress_and_repeat_harmlessly(ctx) -> None:
    db, settings, clock, _ = ctx
    _subscribe_and_confirm(ctx)
    _subscribe_and_confirm(ctx, email="els@voorbeeld.be")
    with db.session() as session:
        record_bounce(session, clock, settings, EMAIL, permanent=False)
        assert find_subscriber(session, EMAIL).status == "active"  # soft bounce: nothing
        record_bounce(session, clock, settings, EMAIL, detail="550 mailbox unknown")
        record_bounce(session, clock, settings, EMAIL)
        record_complaint(session, clock, settings, "els@voorbeeld.be")
        record_complaint(session, clock, settings, "els@voorbeeld.be")
        # An address we do not hold is still suppressed.
        assert record_complaint(session, clock, settings, "stranger@voorbeeld.be") is None
        assert record_bounce(session, clock, settings, "not an address") is None
    with db.session() as session:
        assert find_subscriber(session, EMAIL).status == "bounced"
        assert find_subscriber(session, "els@voorbeeld.be").status == "complained"
        reasons = sorted(r.reason for r in session.scalars(select(Suppression)))
        assert reasons == ["bounced", "complained", "complained"]
    events = [e for e, _ in _events(db)]
    assert events.count("bounced") == 1 and events.count("complained") == 1


# ---------------------------------------------------------------- preferences


def test_update_preferences(ctx) -> None:
    db, settings, clock, _ = ctx
    subscriber = _subscribe_and_confirm(ctx, municipality="Brugge")
    token = _preferences_token(settings, clock, subscriber)
    with db.session() as session:
        updated = update_preferences(session, clock, settings, token, name="Jan P.",
                                     municipality="Zedelgem",
                                     topics=["projectoproepen", "Toegankelijk digitaal design"])
        assert (updated.name, updated.municipality, updated.subregion) == \
            ("Jan P.", "Zedelgem", "west")
        assert updated.topics == ["projectoproepen", "toegankelijk-design"]
    with db.session() as session:
        # UNCHANGED leaves fields alone; clearing the municipality clears the subregion.
        updated = update_preferences(session, clock, settings, token, municipality=None,
                                     topics=UNCHANGED)
        assert updated.municipality is None and updated.subregion is None
        assert updated.name == "Jan P." and len(updated.topics) == 2
        history = consent_history(session, updated)
        assert [e.detail for e in history if e.event == "preferences_changed"] == [
            "changed: name, municipality, topics", "changed: municipality"]
    with pytest.raises(SubscriberError, match="onbekende gemeente"), \
            db.session() as session:
        update_preferences(session, clock, settings, token, municipality="Antwerpen")
    with pytest.raises(TokenError, match="verkeerde link"), db.session() as session:
        update_preferences(session, clock, settings,
                           _unsubscribe_token(settings, clock, subscriber), name="x")


def test_preferences_refused_after_unsubscribe(ctx) -> None:
    db, settings, clock, _ = ctx
    subscriber = _subscribe_and_confirm(ctx)
    with db.session() as session:
        unsubscribe(session, clock, settings, _unsubscribe_token(settings, clock, subscriber))
    with pytest.raises(SubscriberError,
                       match="de abonnee is uitgeschreven"), \
            db.session() as session:
        update_preferences(session, clock, settings,
                           _preferences_token(settings, clock, subscriber), name="x")


# ---------------------------------------------------------------- GDPR


def test_erase_removes_personal_data_and_keeps_hashes(ctx) -> None:
    db, settings, clock, provider = ctx
    subscriber = _subscribe_and_confirm(ctx, name="Jan Peeters", municipality="Damme")
    email_hash = subscriber.email_hash
    token = _unsubscribe_token(settings, clock, subscriber)
    clock.advance(days=1)
    with db.session() as session:
        result = erase(session, clock, settings, EMAIL)
        assert result.subscriber_id == subscriber.id and result.ledger_events == 2
    with db.session() as session:
        tomb = session.get(Subscriber, subscriber.id)
        assert tomb.status == "erased" and tomb.erased_at == clock.now()
        assert (tomb.email, tomb.email_key, tomb.email_hash, tomb.name, tomb.municipality,
                tomb.subregion, tomb.topics) == (None, None, None, None, None, None, [])
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert [e.event for e in events] == ["subscribed", "confirmed", "erased"]
        assert all(e.email is None and e.email_hash == email_hash for e in events)
        assert session.get(Suppression, email_hash).reason == "erased"
        assert session.scalars(select(MailThrottle)).all() == []
        assert find_subscriber(session, EMAIL) is None
        # Nothing personal left anywhere in the database.
        for table in ("subscribers", "consent_events", "suppressions", "mail_throttle"):
            dump = json.dumps([list(map(str, row)) for row in
                               session.execute(text(f"SELECT * FROM {table}"))]).lower()
            assert "peeters" not in dump and "voorbeeld" not in dump
    # Its tokens are dead; the erased address cannot be re-added by an admin.
    with pytest.raises(TokenError), db.session() as session:
        unsubscribe(session, clock, settings, token)
    with pytest.raises(SuppressedError), db.session() as session:
        add_subscriber(session, provider, clock, settings, email=EMAIL, consent_source="x")
    # Repeating is harmless.
    with db.session() as session:
        assert erase(session, clock, settings, EMAIL).subscriber_id is None


def test_erased_person_can_come_back_only_by_fresh_opt_in(ctx) -> None:
    db, settings, clock, provider = ctx
    _subscribe_and_confirm(ctx)
    with db.session() as session:
        erase(session, clock, settings, EMAIL)
    clock.advance(days=30)
    provider.clear()
    _subscribe(ctx)
    with db.session() as session:
        assert find_subscriber(session, EMAIL).status == "pending"
    with db.session() as session:
        assert confirm(session, clock, settings, _confirm_token(provider)).status == "active"
        assert session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_export_person_has_everything_as_json(ctx) -> None:
    db, settings, clock, _ = ctx
    _subscribe_and_confirm(ctx, name="Jan Peeters", municipality="Oostkamp",
                           topics=["projectoproepen"], ip="192.0.2.4")
    with db.session() as session:
        data = export_person(session, settings, EMAIL.lower())
    text_ = json.dumps(data)
    assert data["subscriber"]["name"] == "Jan Peeters"
    assert data["subscriber"]["municipality"] == "Oostkamp"
    assert data["subscriber"]["status"] == "active"
    assert [e["event"] for e in data["consent_events"]] == ["subscribed", "confirmed"]
    assert data["consent_events"][0]["privacy_notice_version"] == settings.privacy_notice_version
    assert "192.0.2.4" not in text_
    assert data["suppression"] is None
    with db.session() as session:
        erase(session, clock, settings, EMAIL)
        after = export_person(session, settings, EMAIL)
    assert after["subscriber"] is None
    assert [e["event"] for e in after["consent_events"]] == ["subscribed", "confirmed", "erased"]
    assert after["suppression"]["reason"] == "erased"


# ---------------------------------------------------------------- retention, listing


def test_purge_deletes_pending_older_than_30_days_only(ctx) -> None:
    db, settings, clock, _provider = ctx
    _subscribe(ctx, email="old@voorbeeld.be")
    _subscribe_and_confirm(ctx, email="active@voorbeeld.be")
    clock.advance(days=29)
    _subscribe(ctx, email="recent@voorbeeld.be")
    with db.session() as session:
        assert purge_expired_pending(session, clock, settings) == 0
    clock.advance(days=1, seconds=1)
    with db.session() as session:
        assert purge_expired_pending(session, clock, settings) == 1
    with db.session() as session:
        assert find_subscriber(session, "old@voorbeeld.be") is None
        assert find_subscriber(session, "recent@voorbeeld.be").status == "pending"
        assert find_subscriber(session, "active@voorbeeld.be").status == "active"
        key_hash = Hasher(settings).email("old@voorbeeld.be")
        events = session.scalars(select(ConsentEvent).where(
            ConsentEvent.email_hash == key_hash).order_by(ConsentEvent.id)).all()
        assert [e.event for e in events] == ["subscribed", "expired"]
        assert all(e.email is None for e in events)
    # The purged person may simply subscribe again.
    _subscribe(ctx, email="old@voorbeeld.be")
    with db.session() as session:
        assert find_subscriber(session, "old@voorbeeld.be").status == "pending"


def test_send_pending_confirmations_once_each(ctx) -> None:
    db, settings, clock, provider = ctx
    with db.session() as session:
        for number in range(3):
            session.add(Subscriber(
                email=f"p{number}@voorbeeld.be", email_key=f"p{number}@voorbeeld.be",
                email_hash=Hasher(settings).email(f"p{number}@voorbeeld.be"), topics=[],
                language="nl-BE", status="pending", source="import", created_at=clock.now(),
                updated_at=clock.now()))
    provider.max_batch = 2
    with db.session() as session:
        assert send_pending_confirmations(session, provider, clock, settings) == 3
    # One transactional message a request (no List-Unsubscribe), whatever the batch size.
    assert [len(b.recipients) for b in provider.batches] == [1, 1, 1]
    with db.session() as session:
        assert send_pending_confirmations(session, provider, clock, settings) == 0
    token = link_token(provider.sent[1].text, "bevestigen")
    with db.session() as session:
        assert confirm(session, clock, settings, token).email == "p1@voorbeeld.be"


def test_list_and_stats(ctx) -> None:
    db, settings, clock, _ = ctx
    _subscribe_and_confirm(ctx, email="a@voorbeeld.be", municipality="Brugge",
                           topics=["projectoproepen"])
    _subscribe_and_confirm(ctx, email="b@voorbeeld.be", municipality="Damme")
    _subscribe(ctx, email="c@voorbeeld.be", municipality="Damme")
    with db.session() as session:
        remove_subscriber(session, clock, settings, "b@voorbeeld.be")
        erase(session, clock, settings, "c@voorbeeld.be")
    with db.session() as session:
        assert [s.email for s in list_subscribers(session)] == ["a@voorbeeld.be",
                                                                "b@voorbeeld.be"]
        assert [s.email for s in list_subscribers(session, status="active")] == \
            ["a@voorbeeld.be"]
        assert [s.email for s in list_subscribers(session, subregion="noord")] == \
            ["b@voorbeeld.be"]
        assert [s.email for s in list_subscribers(session, topic="projectoproepen")] == \
            ["a@voorbeeld.be", "b@voorbeeld.be"]  # b chose no topics: all
        assert [s.email for s in list_subscribers(session, search="B@VOOR")] == \
            ["b@voorbeeld.be"]
        stats = list_stats(session)
    assert stats.by_status["active"] == 1 and stats.by_status["unsubscribed"] == 1
    assert stats.by_status["erased"] == 1 and stats.total == 3
    assert stats.by_municipality == {"Brugge": {"active": 1}, "Damme": {"unsubscribed": 1}}
    assert stats.by_subregion == {"centrum": {"active": 1}, "noord": {"unsubscribed": 1}}
    assert stats.suppressed == 2


def test_secret_key_never_stored_or_shown(ctx) -> None:
    db, settings, _clock, provider = ctx
    _subscribe_and_confirm(ctx)
    key = settings.secret_key.reveal()
    with db.session() as session:
        for table in ("subscribers", "consent_events", "suppressions", "mail_throttle"):
            assert key not in str(session.execute(text(f"SELECT * FROM {table}")).all())
        assert key not in json.dumps(export_person(session, settings, EMAIL))
    assert all(key not in m.text and key not in m.html for m in provider.sent)


# ---------------------------------------------------------------- email normalisation


@pytest.mark.parametrize("address", [
    "Jan.Peeters@Voorbeeld.BE", "a+tag@sub.example.org", "o'brien@example.co.uk",
    "x@xn--bcher-kva.de", "élodie@exemple.be", "a@b-c.be", "a-b@a--b.be", "user@EXAMPLE.ORG",
    "first.last@example.museum",
])
def test_fast_path_agrees_with_email_validator(address: str) -> None:
    from email_validator import validate_email

    assert normalize_email(address) == validate_email(address,
                                                      check_deliverability=False).normalized


@pytest.mark.parametrize("address", [
    "a..b@example.org", "a@example", "a@-x.be", "a@x.test", "a@localhost", ".a@x.be",
    "a@x.123", "a" * 250 + "@x.be", "a b@x.be", "@x.be", "a@", "",
])
def test_invalid_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidEmailError):
        normalize_email(address)


def test_unique_case_insensitively_in_the_database(ctx) -> None:
    db, _settings, _clock, _ = ctx
    _subscribe(ctx, email="Case@Voorbeeld.be")
    _subscribe(ctx, email="case@voorbeeld.be")
    _subscribe(ctx, email="CASE@VOORBEELD.BE")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1


def test_timestamps_of_each_transition(ctx) -> None:
    db, settings, clock, _ = ctx
    subscriber = _subscribe_and_confirm(ctx)
    created = subscriber.created_at
    clock.advance(days=1)
    with db.session() as session:
        record_complaint(session, clock, settings, EMAIL)
    with db.session() as session:
        row = find_subscriber(session, EMAIL)
        assert row.created_at == created and row.confirmed_at == created
        assert row.complained_at == clock.now() == row.updated_at
        assert row.opted_out_at == clock.now()
    assert timedelta(days=1) == clock.now() - created
