"""Every bad request to the public pages: a clear Dutch page with the right status, no
traceback, the database unchanged. Bad links, CSRF, limits, sizes, methods, hostile input."""

from __future__ import annotations

from dataclasses import replace

import pytest

from digiweetjes.errors import TransientProviderError
from digiweetjes.subscribers import erase, find_subscriber
from digiweetjes.subscribers.tokens import Purpose
from digiweetjes.web.options import WebOptions
from tests.helpers_subscribers import RecordingProvider
from tests.web_public_support import (
    ADDRESS,
    FORM,
    ONE_CLICK,
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

PAGES = ("bevestigen", "voorkeuren", "uitschrijven")
PURPOSES = {"bevestigen": Purpose.CONFIRM, "voorkeuren": Purpose.PREFERENCES,
            "uitschrijven": Purpose.UNSUBSCRIBE}


@pytest.fixture
def client(db_settings, db, clock):
    with client_for(db_settings, db, clock) as client:
        yield client


@pytest.fixture
def subscribed(db, db_settings, clock) -> dict[str, str]:
    """An active subscriber: a valid token for each page."""
    active_subscriber(db, db_settings, clock, RecordingProvider())
    return {page: token_for(db, db_settings, clock, purpose)
            for page, purpose in PURPOSES.items()}


def _csrf(client, subscribed: dict[str, str]) -> str:
    """A valid csrftoken (the client now holds its cookie), from a page with a form."""
    return csrf_field(client.get(f"/uitschrijven/{subscribed['uitschrijven']}").text)


def _no_trace(response) -> None:
    assert "Traceback" not in response.text and 'lang="nl-BE"' in response.text


# ---------------------------------------------------------------- links that do not work

@pytest.mark.parametrize("page", PAGES)
def test_an_altered_link_is_a_400_page_on_get_and_post(client, db, subscribed,
                                                        page: str) -> None:
    field = _csrf(client, subscribed)
    before = counts(db)
    token = subscribed[page]
    for bad in (token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), token[:20],
                "x", subscribed["voorkeuren" if page != "voorkeuren" else "uitschrijven"]):
        for response in (client.get(f"/{page}/{bad}"),
                         client.post(f"/{page}/{bad}", data={"csrftoken": field})):
            assert response.status_code == 400, (bad, response.text[:300])
            assert "Deze link werkt niet" in response.text
            assert response.headers["cache-control"] == "no-store"
            _no_trace(response)
    assert counts(db) == before and status_of(db) == "active"


def test_an_expired_confirmation_link_is_a_410_page_with_a_way_back(client, db, db_settings,
                                                                    clock) -> None:
    client.post("/inschrijven", data=VALID)
    token = mailed_token(db_settings, "bevestigen")
    field = csrf_field(client.get(f"/bevestigen/{token}").text)  # valid: the button
    clock.advance(days=8)
    for response in (client.get(f"/bevestigen/{token}"),
                     client.post(f"/bevestigen/{token}", data={"csrftoken": field})):
        assert response.status_code == 410
        assert "Deze link is verlopen" in response.text
        assert 'href="/inschrijven"' in response.text
        _no_trace(response)
    assert status_of(db) == "pending"


@pytest.mark.parametrize("page", PAGES)
def test_the_link_of_an_erased_subscriber_is_a_410_page(client, db, db_settings, clock,
                                                        subscribed, page: str) -> None:
    field = _csrf(client, subscribed)
    with db.session() as session:
        erase(session, clock, db_settings, ADDRESS)
    before = counts(db)
    for response in (client.get(f"/{page}/{subscribed[page]}"),
                     client.post(f"/{page}/{subscribed[page]}", data={"csrftoken": field})):
        assert response.status_code == 410
        assert "Deze inschrijving bestaat niet meer" in response.text
        assert ADDRESS not in response.text
        _no_trace(response)
    assert counts(db) == before


def test_one_click_with_a_bad_link_changes_nothing(db, db_settings, clock,
                                                   subscribed) -> None:
    with client_for(db_settings, db, clock) as provider:
        response = provider.post(f"/uitschrijven/{subscribed['uitschrijven'][:-4]}xxxx",
                                 data=ONE_CLICK)
    assert response.status_code == 400 and "set-cookie" not in response.headers
    assert status_of(db) == "active"


# ---------------------------------------------------------------- CSRF

@pytest.mark.parametrize("page", PAGES)
def test_a_form_without_the_right_csrf_token_is_a_dutch_403(client, db, db_settings, clock,
                                                            subscribed, page: str) -> None:
    url = f"/{page}/{subscribed[page]}"
    field = _csrf(client, subscribed)
    before = counts(db)
    refused = [client.post(url, data={"naam": "X"}),                      # field missing
               client.post(url, data={"csrftoken": field[:-2] + "zz"}),   # field wrong
               client.post(url, data={"csrftoken": field}, headers={"content-type": "text/plain"})]
    with client_for(db_settings, db, clock) as stranger:                   # no cookie at all
        refused.append(stranger.post(url, data={"csrftoken": field}))
    for response in refused:
        assert response.status_code == 403, response.text[:200]
        assert "Dit mag niet" in response.text
        _no_trace(response)
    assert counts(db) == before and status_of(db) == "active"


# ---------------------------------------------------------------- limits, sizes, methods

def test_too_many_sign_ups_from_one_address_is_a_429(db_settings, db, clock) -> None:
    settings = db_settings.with_(web=replace(WebOptions(), signups_per_ip_per_hour=2))
    with client_for(settings, db, clock) as client:
        for number in range(2):
            answer = client.post("/inschrijven", data={**VALID, "email": f"p{number}@voorbeeld.be"})
            assert answer.status_code == 303
        before = counts(db)
        limited = client.post("/inschrijven", data={**VALID, "email": "p9@voorbeeld.be"})
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "3600"
        assert "te veel inschrijvingen" in limited.text
        _no_trace(limited)
        assert counts(db) == before
        assert client.get("/inschrijven").status_code == 200  # pages are still served


def test_too_many_requests_a_minute_is_a_429(db_settings, db, clock) -> None:
    settings = db_settings.with_(web=replace(WebOptions(), requests_per_ip_per_minute=3))
    with client_for(settings, db, clock) as client:
        assert [client.get("/privacy").status_code for _ in range(3)] == [200] * 3
        limited = client.get("/inschrijven")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
        assert "Even geduld" in limited.text
        assert client.get("/healthz").status_code == 200  # machines are not counted


def test_one_click_posts_are_never_refused_for_their_number(db_settings, db, clock) -> None:
    settings = db_settings.with_(web=replace(WebOptions(), requests_per_ip_per_minute=1))
    addresses = [f"lezer{n}@voorbeeld.be" for n in range(3)]
    for address in addresses:
        active_subscriber(db, settings, clock, RecordingProvider(), address=address)
    with client_for(settings, db, clock) as provider:  # one mail provider, many recipients
        for address in addresses:
            token = token_for(db, settings, clock, Purpose.UNSUBSCRIBE, address)
            assert provider.post(f"/uitschrijven/{token}", data=ONE_CLICK).status_code == 200
        assert provider.get("/privacy").status_code == 200
        assert provider.get("/privacy").status_code == 429  # pages still count
    assert {status_of(db, address) for address in addresses} == {"unsubscribed"}


def test_an_oversized_form_is_a_413_also_when_it_streams(client, db, db_settings,
                                                         subscribed) -> None:
    field = _csrf(client, subscribed)
    limit = int(db_settings.web.max_form_bytes)
    before = counts(db)
    body = f"csrftoken={field}&naam=".encode() + b"x" * limit

    def chunks():
        yield body[:1000]
        yield body[1000:]

    for page in ("voorkeuren", "uitschrijven"):
        url = f"/{page}/{subscribed[page]}"
        declared = client.post(url, content=body, headers=FORM)
        streamed = client.post(url, content=chunks(), headers=FORM)
        for response in (declared, streamed):
            assert response.status_code == 413, response.text[:200]
            assert "te veel gegevens" in response.text
    streamed = client.post("/inschrijven", content=chunks(), headers=FORM)
    assert streamed.status_code == 413
    assert counts(db) == before


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/inschrijven"), ("DELETE", "/bevestigen/abc"), ("PATCH", "/voorkeuren/abc"),
    ("PUT", "/uitschrijven/abc"), ("POST", "/privacy"), ("POST", "/voorkeuren"),
    ("POST", "/uitschrijven"), ("POST", "/inschrijven/verstuurd")])
def test_a_wrong_method_is_a_dutch_405(client, method: str, path: str) -> None:
    response = client.request(method, path, data={"x": "y"})
    assert response.status_code == 405
    assert "Zo kan deze pagina niet gebruikt worden" in response.text
    assert response.headers["allow"]


# ---------------------------------------------------------------- hostile input

@pytest.mark.parametrize(("changes", "field_id", "words"), [
    ({"email": ""}, "veld-email", "Vul je e-mailadres in"),
    ({"email": "geen-adres"}, "veld-email", "geldig e-mailadres"),
    ({"email": "an\x00@voorbeeld.be"}, "veld-email", "geldig e-mailadres"),
    ({"gemeente": "Gent"}, "veld-gemeente", "Gemeente"),
    ({"interesses": ["projectoproepen", "voetbal"]}, "veld-interesses-projectoproepen",
     "Interesses"),
    ({"toestemming": "nee"}, "veld-toestemming", "privacyverklaring"),
    ({"naam": "x" * 10_000}, "veld-naam", "hoogstens 200 tekens"),
    ({"naam": "An \u202eneeteP"}, "veld-naam", "schrijfrichting"),
    ({"naam": "An\x00Peeters"}, "veld-naam", "stuurtekens"),
    ({"naam": "=?utf-8?q?Bcc=3A_x@y?="}, "veld-naam", "kunnen we niet gebruiken"),
])
def test_bad_sign_up_input_is_a_400_form_with_the_field_named(client, db, db_settings,
                                                              changes, field_id: str,
                                                              words: str) -> None:
    response = client.post("/inschrijven", data={**VALID, **changes})
    assert response.status_code == 400
    html = response.text
    assert "Er is een probleem" in html and f'href="#{field_id}"' in html and words in html
    assert f'id="{field_id}-fout"' in html or field_id.startswith("veld-interesses")
    assert 'aria-invalid="true"' in html or "interesses" in field_id
    assert html.count("<title>Fout: ") == 1
    _no_trace(response)
    # The values are kept (cut when huge), nothing is stored, nobody is mailed.
    if "email" not in changes:
        assert f'value="{ADDRESS}"' in html
    assert counts(db) == (0, 0, 0, 0) and outbox_mails(db_settings) == []


def test_bytes_that_are_not_utf8_and_a_file_upload_are_refused_cleanly(client, db) -> None:
    garbled = client.post("/inschrijven", content=b"email=%FF%FE%00&toestemming=ja",
                          headers=FORM)
    assert garbled.status_code == 400 and "geldig e-mailadres" in garbled.text
    upload = client.post("/inschrijven", data={"toestemming": "ja"},
                         files={"email": ("adres.txt", b"an@voorbeeld.be", "text/plain")})
    assert upload.status_code == 400
    _no_trace(upload)
    broken = client.post("/inschrijven", content=b"--x\r\ngarbage",
                         headers={"content-type": "multipart/form-data"})
    assert broken.status_code == 400
    assert counts(db) == (0, 0, 0, 0)


def test_a_malformed_body_behind_a_link_is_a_400_not_a_crash(client, db, subscribed) -> None:
    _csrf(client, subscribed)  # with the cookie, asgi-csrf parses the body itself
    before = counts(db)
    for page in PAGES:
        url = f"/{page}/{subscribed[page]}"
        for content, content_type in (
                (b"--x\r\ngarbage", "multipart/form-data"),
                (b"List-Unsubscribe=One-Click--x\r\n", "multipart/form-data; boundary="),
                (b"csrftoken=%FF\xff\xfe", "application/x-www-form-urlencoded")):
            response = client.post(url, content=content, headers={"content-type": content_type})
            assert response.status_code == 400, (page, content, response.text[:200])
            _no_trace(response)
    assert counts(db) == before and status_of(db) == "active"


def test_bad_preferences_keep_the_old_ones(client, db, subscribed) -> None:
    url = f"/voorkeuren/{subscribed['voorkeuren']}"
    form = client.get(url)
    before = counts(db)
    response = client.post(url, data={"csrftoken": csrf_field(form.text), "gemeente": "Gent",
                                      "naam": "\u202e", "interesses": ["voetbal"]})
    assert response.status_code == 400
    for field_id in ("veld-naam", "veld-gemeente", "veld-interesses-projectoproepen"):
        assert f'href="#{field_id}"' in response.text
    assert 'action="/uitschrijven/' in response.text  # leaving is still offered
    with db.session() as session:
        subscriber = find_subscriber(session, ADDRESS)
        assert (subscriber.name, subscriber.municipality) == ("An Peeters", None)
    assert counts(db) == before


def test_a_failing_provider_is_a_503_and_nothing_is_stored(db_settings, db, clock) -> None:
    class Down(RecordingProvider):
        def send_transactional(self, content, recipient):  # type: ignore[no-untyped-def]
            raise TransientProviderError("connection refused")

    with client_for(db_settings, db, clock, provider=Down()) as client:
        response = client.post("/inschrijven", data=VALID)
    assert response.status_code == 503
    assert "Je inschrijving lukte nu niet" in response.text and "niets" in response.text
    assert ADDRESS not in response.text
    _no_trace(response)
    assert counts(db) == (0, 0, 0, 0)


def test_an_unexpected_error_is_a_dutch_500_without_a_trace(db_settings, db, clock) -> None:
    class Broken(RecordingProvider):
        def send_transactional(self, content, recipient):  # type: ignore[no-untyped-def]
            raise RuntimeError("bug in an adapter")

    with client_for(db_settings, db, clock, provider=Broken()) as client:
        response = client.post("/inschrijven", data=VALID)
    assert response.status_code == 500 and "Er ging iets mis" in response.text
    assert "bug in an adapter" not in response.text
    _no_trace(response)
    assert counts(db) == (0, 0, 0, 0)
