"""The web app's frame: Dutch error pages, security headers, body limits, the archive served."""

from __future__ import annotations

import pytest

from digiweetjes.site import build_site
from tests.release_support import SAMPLE_ID, sent_in
from tests.web_support import web_client


@pytest.fixture
def client(db_settings, db, clock):
    with web_client(db_settings, db, clock) as client:
        yield client


def test_a_missing_page_is_a_dutch_404_page(client) -> None:
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Deze pagina bestaat niet" in response.text
    assert 'lang="nl-BE"' in response.text
    assert "Traceback" not in response.text


def test_every_answer_carries_the_security_headers(client) -> None:
    for response in (client.get("/bestaat-niet"), client.get("/style.css")):
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_archive_is_served_once_built(client, db_settings) -> None:
    assert client.get("/").status_code == 404          # not built yet: a page, not a crash
    sent_in(db_settings, SAMPLE_ID)
    build_site(db_settings)
    home = client.get("/")
    assert home.status_code == 200 and "Archief van Digi-weetjes" in home.text
    issue = client.get(f"/archief/{SAMPLE_ID}.html")
    assert issue.status_code == 200
    assert client.get("/projectoproepen.html").status_code == 200
    assert client.get("/../subscribers.db").status_code == 404


def test_a_wrong_method_on_the_archive_is_405_in_dutch(client) -> None:
    response = client.delete("/index.html")
    assert response.status_code == 405
    assert "Zo kan deze pagina niet gebruikt worden" in response.text


def test_an_oversized_body_is_refused_before_it_is_read(client, db_settings) -> None:
    limit = int(db_settings.web.max_form_bytes)
    response = client.post("/inschrijven", content=b"x" * (limit + 1),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "te veel gegevens" in response.text


def test_the_stylesheet_is_served_from_the_templates(client) -> None:
    response = client.get("/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_health_answers_when_the_database_does(client) -> None:
    assert client.get("/healthz").text == "ok\n"


def test_a_server_error_is_a_dutch_page_and_the_log_holds_no_link_token(
        db_settings, db, clock, caplog) -> None:
    from starlette.routing import Route

    from digiweetjes.web.errors import loggable_path

    with web_client(db_settings, db, clock) as client:
        async def broken(request):
            raise RuntimeError("boom")

        client.app.router.routes.insert(0, Route("/uitschrijven/{token}/kapot", broken))
        response = client.get("/uitschrijven/GEHEIM-TOKEN/kapot")
    assert response.status_code == 500
    assert "Er ging iets mis" in response.text and "boom" not in response.text
    assert "GEHEIM-TOKEN" not in caplog.text
    assert "unhandled error on GET /uitschrijven/…" in caplog.text
    assert loggable_path("/inschrijven") == "/inschrijven"
