"""The public pages through the ASGI app (httpx): sign up, confirm, preferences, unsubscribe
(page and RFC 8058 one-click), privacy, the help pages; the same answer for every address."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from digiweetjes.errors import ConfigError
from digiweetjes.models import ConsentEvent
from digiweetjes.subscribers import find_subscriber
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.tokens import Purpose
from digiweetjes.web import create_app
from tests.helpers_subscribers import RecordingProvider
from tests.web_public_support import (
    ADDRESS,
    ONE_CLICK,
    ONE_CLICK_MULTIPART,
    VALID,
    active_subscriber,
    client_for,
    counts,
    csrf_field,
    mailed_token,
    outbox_mails,
    status_of,
    token_for,
)


@pytest.fixture
def client(db_settings, db, clock):
    with client_for(db_settings, db, clock) as client:
        yield client


def test_the_sign_up_form_is_dutch_accessible_and_self_contained(client) -> None:
    response = client.get("/inschrijven")
    assert response.status_code == 200
    html = response.text
    assert 'lang="nl-BE"' in html and html.count("<h1") == 1
    for name in ("email", "naam", "gemeente", "interesses", "toestemming", "website"):
        assert f'name="{name}"' in html, name
    assert 'autocomplete="email"' in html and 'inputmode="email"' in html
    assert 'autocomplete="name"' in html
    assert html.count("<fieldset") == 2 and html.count("<legend") == 2
    for field_id in ("veld-email", "veld-naam", "veld-gemeente", "veld-toestemming"):
        assert f'<label for="{field_id}"' in html, field_id
    # The honeypot: hidden from people and from assistive technology, out of the tab order.
    honeypot = re.search(r'<div class="visually-hidden" aria-hidden="true">.*?</div>', html,
                         re.DOTALL)
    assert honeypot and 'tabindex="-1"' in honeypot.group() and 'name="website"' in honeypot.group()
    assert 'href="https://digiweetjes.example.be/privacy"' in html
    assert html.count("<option") == 11  # "no municipality" and the region's ten
    # Nothing from elsewhere: no script, and every stylesheet or image is our own.
    assert "<script" not in html
    assert not re.findall(r'(?:src|href)="(?:https?:)?//(?!digiweetjes\.example\.be)[^"]*\.'
                          r'(?:css|js|png|woff2?)"', html)
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers  # the sign-up form has no CSRF token


def test_sign_up_confirm_change_preferences_and_unsubscribe(client, db, db_settings) -> None:
    answer = client.post("/inschrijven", data=VALID)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/inschrijven/verstuurd"
    sent = client.get(answer.headers["location"])
    assert sent.status_code == 200 and "Kijk in je mailbox" in sent.text
    assert status_of(db) == "pending"
    [mail] = outbox_mails(db_settings)
    assert mail["To"].addresses[0].addr_spec == ADDRESS
    assert mail["Subject"] == "Bevestig je inschrijving op Digi-weetjes"
    token = mailed_token(db_settings, "bevestigen")

    # A mail scanner's GET confirms nobody.
    page = client.get(f"/bevestigen/{token}")
    assert page.status_code == 200 and "Bevestig je inschrijving" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert status_of(db) == "pending"
    confirmed = client.post(f"/bevestigen/{token}", data={"csrftoken": csrf_field(page.text)})
    assert confirmed.status_code == 200 and "Je inschrijving is bevestigd" in confirmed.text
    assert status_of(db) == "active"
    again = client.post(f"/bevestigen/{token}", data={"csrftoken": csrf_field(page.text)})
    assert again.status_code == 200 and "Je inschrijving is bevestigd" in again.text

    with db.session() as session:
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert [e.event for e in events] == ["subscribed", "confirmed"]
        assert {e.privacy_notice_version for e in events} == {"2026-01"}
        assert {e.ip_hash for e in events} == {Hasher(db_settings).ip("testclient")}
        subscriber = find_subscriber(session, ADDRESS)
        assert (subscriber.name, subscriber.municipality, subscriber.topics) == (
            "An Peeters", "Damme", ["digitale-toegang", "projectoproepen"])

    # The confirmation page links to the preferences, which show the current choices.
    preferences_path = re.search(r'href="(/voorkeuren/[^"]+)"', confirmed.text).group(1)
    form = client.get(preferences_path)
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert 'value="An Peeters"' in form.text
    assert '<option value="Damme" selected>' in form.text
    assert 'value="projectoproepen" checked' in form.text
    saved = client.post(preferences_path, data={
        "csrftoken": csrf_field(form.text), "naam": "An De Smet", "gemeente": "Brugge",
        "interesses": ["toegankelijk-design"]})
    assert saved.status_code == 200 and "Je voorkeuren zijn bewaard" in saved.text
    assert "Toegankelijk digitaal design" in saved.text
    with db.session() as session:
        subscriber = find_subscriber(session, ADDRESS)
        assert (subscriber.name, subscriber.municipality, subscriber.subregion,
                subscriber.topics) == ("An De Smet", "Brugge", "centrum", ["toegankelijk-design"])

    # The preferences page offers unsubscribing: its form posts to the unsubscribe link.
    unsubscribe_path = re.search(r'action="(/uitschrijven/[^"]+)"', form.text).group(1)
    left = client.post(unsubscribe_path, data={"csrftoken": csrf_field(form.text)})
    assert left.status_code == 200 and "Je bent uitgeschreven" in left.text
    assert 'href="/inschrijven"' in left.text
    assert status_of(db) == "unsubscribed"
    closed = client.get(preferences_path)
    assert closed.status_code == 200 and "Je ontvangt Digi-weetjes niet meer" in closed.text


def test_the_unsubscribe_page_asks_first_then_unsubscribes(client, db, db_settings,
                                                           clock) -> None:
    active_subscriber(db, db_settings, clock, RecordingProvider())
    token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE)
    page = client.get(f"/uitschrijven/{token}")
    assert page.status_code == 200 and "Ja, schrijf me uit" in page.text
    assert status_of(db) == "active"
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("csrftoken=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/"):
        assert attribute in cookie, attribute
    done = client.post(f"/uitschrijven/{token}", data={"csrftoken": csrf_field(page.text)})
    assert done.status_code == 200 and "Je bent uitgeschreven" in done.text
    assert status_of(db) == "unsubscribed"
    # Once done, the page says so instead of offering the button again.
    assert "Je bent uitgeschreven" in client.get(f"/uitschrijven/{token}").text


def test_one_click_unsubscribes_without_cookie_csrf_or_redirect(db, db_settings,
                                                                clock) -> None:
    active_subscriber(db, db_settings, clock, RecordingProvider())
    token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE)
    with client_for(db_settings, db, clock) as provider_client:  # no cookie, as a provider
        first = provider_client.post(f"/uitschrijven/{token}", data=ONE_CLICK)
        assert first.status_code == 200, first.text
        assert "Je bent uitgeschreven" in first.text
        assert "set-cookie" not in first.headers and "location" not in first.headers
        assert status_of(db) == "unsubscribed"
        repeated = provider_client.post(f"/uitschrijven/{token}", data=ONE_CLICK)
        assert repeated.status_code == 200 and "set-cookie" not in repeated.headers
    with db.session() as session:
        events = [e.event for e in session.scalars(select(ConsentEvent))]
    assert events.count("unsubscribed") == 1


def test_one_click_as_multipart_and_from_a_browser_with_the_cookie(db, db_settings,
                                                                   clock) -> None:
    active_subscriber(db, db_settings, clock, RecordingProvider())
    token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE)
    body, headers = ONE_CLICK_MULTIPART
    with client_for(db_settings, db, clock) as browser:
        browser.get(f"/uitschrijven/{token}")  # now holds the csrftoken cookie
        assert browser.cookies.get("csrftoken")
        answer = browser.post(f"/uitschrijven/{token}", content=body, headers=headers)
    assert answer.status_code == 200 and "Je bent uitgeschreven" in answer.text
    assert status_of(db) == "unsubscribed"


def test_a_known_address_gets_exactly_the_answer_of_an_unknown_one(client, db, db_settings,
                                                                   clock) -> None:
    active_subscriber(db, db_settings, clock, RecordingProvider(), address="bekend@voorbeeld.be")
    active_subscriber(db, db_settings, clock, RecordingProvider(), address="weg@voorbeeld.be")
    with client_for(db_settings, db, clock) as other:
        token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE, "weg@voorbeeld.be")
        other.post(f"/uitschrijven/{token}", data=ONE_CLICK)  # now suppressed
    clock.advance(hours=2)  # past the per-address mail throttle of their own sign-ups

    def answer(address: str):
        response = client.post("/inschrijven", data={**VALID, "email": address})
        return response.status_code, sorted(response.headers.items()), response.content

    unknown = answer("nieuw@voorbeeld.be")
    assert unknown[0] == 303
    for address in ("bekend@voorbeeld.be", "weg@voorbeeld.be", "nieuw@voorbeeld.be",
                    "BEKEND@voorbeeld.be"):
        assert answer(address) == unknown, address
    # Only the mailbox owners heard of it: a confirmation, "already subscribed", a confirmation.
    subjects = [m["Subject"] for m in outbox_mails(db_settings)]
    assert sorted(subjects) == sorted([
        "Bevestig je inschrijving op Digi-weetjes", "Je bent al ingeschreven op Digi-weetjes",
        "Bevestig je inschrijving op Digi-weetjes"])


def test_the_honeypot_gets_the_success_answer_and_nothing_happens(client, db,
                                                                  db_settings) -> None:
    honest = client.post("/inschrijven", data={**VALID, "email": "mens@voorbeeld.be"})
    before = counts(db)
    bot = client.post("/inschrijven", data={**VALID, "website": "https://spam.example"})
    assert (bot.status_code, bot.headers["location"], bot.content) == (
        honest.status_code, honest.headers["location"], honest.content)
    assert counts(db) == before
    assert status_of(db) is None
    assert len(outbox_mails(db_settings)) == 1  # the honest one only


def test_the_archive_form_signs_up_without_interests(client, db) -> None:
    compact = {key: value for key, value in VALID.items() if key != "interesses"}
    assert client.post("/inschrijven", data=compact).status_code == 303
    with db.session() as session:
        assert find_subscriber(session, ADDRESS).topics == []


def test_the_help_pages_without_a_token(client, db_settings) -> None:
    preferences = client.get("/voorkeuren")
    assert preferences.status_code == 200
    assert "persoonlijke link onderaan elk Digi-weetje" in preferences.text
    unsubscribe = client.get("/uitschrijven")
    assert unsubscribe.status_code == 200
    assert f'href="mailto:{db_settings.unsubscribe_mailto}?subject=Uitschrijven"' in \
        unsubscribe.text


def test_the_privacy_page_is_the_notice_of_the_version_in_use(client, db_settings) -> None:
    response = client.get("/privacy")
    assert response.status_code == 200
    html = response.text
    assert "Privacyverklaring van Digi-weetjes" in html and "Versie 2026-01" in html
    for fact in ("Werkkracht10", "gesleutelde hash", "verwerker", "inzage", "wissing",
                 "bezwaar", "Gegevensbeschermingsautoriteit", db_settings.reply_to,
                 "dertig dagen"):
        assert fact in html, fact
    assert html.count("<h1") == 1


def test_a_privacy_version_without_a_text_stops_the_app(db_settings, db, clock) -> None:
    for version in ("2099-01", "../../etc/passwd"):
        with pytest.raises(ConfigError) as caught:
            create_app(db_settings.with_(privacy_notice_version=version), clock=clock, db=db)
        message = str(caught.value)
        assert "DIGIWEETJES_PRIVACY_NOTICE_VERSION" in message and "2026-01" in message


def test_every_archive_page_carries_the_compact_sign_up_form(client, db_settings) -> None:
    from digiweetjes.site import build_site
    from tests.release_support import SAMPLE_ID, sent_in

    sent_in(db_settings, SAMPLE_ID)
    build_site(db_settings)
    for path in ("/", "/projectoproepen.html", f"/archief/{SAMPLE_ID}.html"):
        html = client.get(path).text
        form = re.search(r'<form class="signup-form".*?</form>', html, re.DOTALL)
        assert form, path
        form_html = form.group()
        assert 'action="https://digiweetjes.example.be/inschrijven"' in form_html
        for name in ('name="email"', 'name="naam"', 'name="gemeente"',
                     'name="toestemming" type="checkbox" value="ja"', 'name="website"',
                     'href="https://digiweetjes.example.be/privacy"'):
            assert name in form_html, (path, name)
        assert 'name="interesses"' not in form_html  # the full form is on /inschrijven
        assert html.count('id="veld-email"') == 1


def test_serve_refuses_a_privacy_version_without_a_text_before_starting(
        monkeypatch, tmp_path, capsys) -> None:
    from tests.cli_support import cli_env, run

    cli_env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'subscribers.db'}")
    monkeypatch.setenv("DIGIWEETJES_PRIVACY_NOTICE_VERSION", "2099-01")
    code, out, err = run(capsys, "serve", "--no-build", "--port", "1")
    assert code != 0
    assert "DIGIWEETJES_PRIVACY_NOTICE_VERSION" in err and "2026-01" in err
    assert "Webapp op" not in out and "Traceback" not in err
