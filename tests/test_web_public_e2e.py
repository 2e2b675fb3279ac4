"""A web sign-up end to end over real HTTP: the app with a real provider adapter against the
fake provider on loopback; the confirmation mail goes out once and its link confirms."""

from __future__ import annotations

import re

import pytest

from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.providers.registry import get_provider
from tests.helpers_subscribers import link_token
from tests.providers_support import KEY
from tests.web_public_support import ADDRESS, VALID, client_for, counts, csrf_field, status_of


@pytest.fixture
def fake():
    with FakeProviderServer(faults=Faults(keep_bodies=True)) as server:
        yield server


def test_a_web_sign_up_is_mailed_by_the_provider_and_its_link_confirms(fake, db, db_settings,
                                                                      clock) -> None:
    settings = db_settings.with_(provider="postmark",
                                 provider_options={"server_token": KEY, "base_url": fake.url})
    provider = get_provider(settings, clock)
    try:
        with client_for(settings, db, clock, provider=provider) as client:
            answer = client.post("/inschrijven", data=VALID)
            assert answer.status_code == 303
            [message] = fake.state.recent("postmark", ADDRESS, 10)
            assert message["path"] == "/email" and message["stream"] == "outbound"
            assert message["subject"] == "Bevestig je inschrijving op Digi-weetjes"
            token = link_token(message["text"], "bevestigen")
            assert f"{settings.base_url}/bevestigen/{token}" in message["html"]

            page = client.get(f"/bevestigen/{token}")
            confirmed = client.post(f"/bevestigen/{token}",
                                    data={"csrftoken": csrf_field(page.text)})
            assert confirmed.status_code == 200
            assert "Je inschrijving is bevestigd" in confirmed.text
            assert re.search(r'href="/voorkeuren/[^"]+"', confirmed.text)
    finally:
        provider.close()
    assert status_of(db) == "active"
    assert fake.state.deliveries()["total"] == 1


def test_a_provider_that_refuses_leaves_nothing_behind(fake, db, db_settings, clock) -> None:
    fake.state.set_faults({"reject_pattern": "^an\\."})
    settings = db_settings.with_(provider="postmark",
                                 provider_options={"server_token": KEY, "base_url": fake.url})
    provider = get_provider(settings, clock)
    try:
        with client_for(settings, db, clock, provider=provider) as client:
            response = client.post("/inschrijven", data=VALID)
    finally:
        provider.close()
    assert response.status_code == 503 and "Er is niets" in response.text
    assert KEY not in response.text and ADDRESS not in response.text
    assert counts(db) == (0, 0, 0, 0)
