"""The admin pages' access: login and logout with CSRF, the session cookie and its lifetimes,
lock-out, roles, the audit log, no-store answers. httpx through the ASGI app."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import itsdangerous
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from digiweetjes.models import AuditEvent, Role
from digiweetjes.subscribers.hashing import derive_key
from digiweetjes.users import AdminUser, remove_user, reset_password
from digiweetjes.web.admin.auth import audit, requires
from digiweetjes.web.admin.login import safe_next
from digiweetjes.web.options import WebOptions, web_options
from digiweetjes.web.public.pages import context_of, in_transaction
from tests.admin_support import (
    LOGIN,
    LOGOUT,
    PASSWORD,
    admin_client,
    anonymous_client,
    csrf_field,
    form,
    log_in,
    log_out,
    make_user,
)
from tests.web_support import web_client

COOKIE = "digiweetjes_beheer"
EXPIRED_NOTICE = "Je sessie is verlopen"


def _audit(db) -> list[tuple[str, str]]:
    with db.session() as session:
        return [(e.actor, e.action) for e in session.scalars(
            select(AuditEvent).order_by(AuditEvent.id))]


def _location(response) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(response.headers["location"])
    return parts.path, parse_qs(parts.query)


def _session_cookie_header(response) -> str:
    found = [v for v in response.headers.get_list("set-cookie") if v.startswith(COOKIE + "=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def _proof_route(client) -> None:
    """An admin-only page that takes a POST and writes an audit row (the shape of every admin
    action): the decorator, the audit call and the CSRF check are tested on it."""

    @requires(Role.ADMIN)
    async def proef(request: Request, user: AdminUser) -> Response:
        context = context_of(request)
        await in_transaction(request, lambda db: audit(db, context.clock, user, "proef",
                                                       request.method))
        return PlainTextResponse(f"ok {user.name}")

    client.app.router.routes.insert(0, Route("/beheer/proef", proef,
                                             methods=["GET", "POST"]))


# ---------------------------------------------------------------- login, logout, cookie

def test_the_login_page_is_dutch_accessible_and_never_cached(db_settings, db, clock) -> None:
    with anonymous_client(db_settings, db, clock) as client:
        page = client.get(LOGIN)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<html lang="nl-BE">' in page.text and "<h1>Aanmelden</h1>" in page.text
    assert 'autocomplete="username"' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert 'type="password"' in page.text and csrf_field(page.text)
    assert "Afmelden" not in page.text  # no navigation before logging in


def test_a_login_sets_a_signed_httponly_lax_secure_cookie_for_beheer_only(
        db_settings, db, clock) -> None:
    make_user(db, db_settings, clock, "an", Role.EDITOR)
    with anonymous_client(db_settings, db, clock) as client:
        answer = log_in(client, "An")
        assert answer.status_code == 303 and answer.headers["location"] == "/beheer"
        assert answer.headers["cache-control"] == "no-store"
        cookie = _session_cookie_header(answer).lower()
        for flag in ("httponly", "samesite=lax", "secure", "path=/beheer;"):
            assert flag in cookie
        assert PASSWORD not in cookie
        home = client.get("/beheer")
    assert home.status_code == 200 and "Aangemeld als <strong>an</strong>" in home.text
    assert _audit(db)[-1] == ("an", "login")


def test_the_cookie_is_not_secure_on_a_plain_http_site(db_settings, db, clock) -> None:
    settings = db_settings.with_(base_url="http://localhost:8000")
    make_user(db, settings, clock, "bo")
    with web_client(settings, db, clock, base_url="http://testserver") as client:
        answer = log_in(client, "bo")
    cookie = _session_cookie_header(answer).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(db_settings, db,
                                                                  clock) -> None:
    make_user(db, db_settings, clock, "cas")
    with anonymous_client(db_settings, db, clock) as client:
        wrong = log_in(client, "cas", "not-the-password")
        unknown = log_in(client, "cis", "not-the-password")
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "Naam of wachtwoord klopt niet" in answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "")
        assert "not-the-password" not in answer.text
    assert wrong.text.replace('value="cas"', "") == unknown.text.replace('value="cis"', "")


def test_a_locked_account_is_refused_even_with_the_right_password(db_settings, db,
                                                                  clock) -> None:
    make_user(db, db_settings, clock, "dora")
    with anonymous_client(db_settings, db, clock) as client:
        answers = [log_in(client, "dora", "wrong-password") for _ in range(5)]
        assert [a.status_code for a in answers] == [401] * 4 + [429]
        assert ("Te veel mislukte pogingen; probeer het over 15 minuten opnieuw"
                in answers[-1].text)
        assert answers[-1].headers["retry-after"] == "900"
        right = log_in(client, "dora")
        assert right.status_code == 429 and COOKIE not in right.headers.get("set-cookie", "")
        clock.advance(minutes=10)
        assert "over 5 minuten" in log_in(client, "dora").text
        clock.advance(minutes=5)
        assert log_in(client, "dora").status_code == 303
    assert ("-", "login.locked") in _audit(db)


def test_an_ip_address_with_twenty_failures_is_locked_out(db_settings, db, clock) -> None:
    make_user(db, db_settings, clock, "edo")
    with anonymous_client(db_settings, db, clock) as client:
        for number in range(20):
            log_in(client, f"gok{number}", "wrong-password")
        refused = log_in(client, "edo")
    assert refused.status_code == 429 and "Te veel mislukte pogingen" in refused.text


def test_logout_ends_the_session_everywhere_and_is_audited(db_settings, db, clock) -> None:
    with admin_client(db_settings, db, clock, Role.EDITOR) as client:
        copied = client.cookies.get(COOKIE, path="/beheer")
        answer = log_out(client)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{LOGIN}?afgemeld=1"
        assert "max-age=0" in _session_cookie_header(answer).lower() or \
            "expires=thu, 01 jan 1970" in _session_cookie_header(answer).lower()
        assert client.get("/beheer").status_code == 303
        assert "Je bent afgemeld." in client.get(f"{LOGIN}?afgemeld=1").text
        # A copy of the cookie taken before the logout no longer works either.
        client.cookies.set(COOKIE, copied, domain="testserver.local", path="/beheer")
        assert client.get("/beheer").status_code == 303
    assert _audit(db)[-2:] == [("test-editor", "login"), ("test-editor", "logout")]


def test_a_new_session_replaces_whatever_the_cookie_held(db_settings, db, clock) -> None:
    make_user(db, db_settings, clock, "fee")
    signer = itsdangerous.TimestampSigner(derive_key(db_settings, "admin-session").hex())
    planted = signer.sign(base64.b64encode(json.dumps({"geplant": 1}).encode())).decode()
    with anonymous_client(db_settings, db, clock) as client:
        client.cookies.set(COOKIE, planted, domain="testserver.local", path="/beheer")
        answer = log_in(client, "fee")
    value = _session_cookie_header(answer).split(";", 1)[0].split("=", 1)[1]
    data = json.loads(base64.b64decode(signer.unsign(value)))
    assert "geplant" not in data and set(data) == {"uid", "epoch", "login", "seen"}


def test_a_tampered_cookie_is_nobody(db_settings, db, clock) -> None:
    with admin_client(db_settings, db, clock) as client:
        value = client.cookies.get(COOKIE, path="/beheer")
        client.cookies.set(COOKIE, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"),
                           domain="testserver.local", path="/beheer")
        assert client.get("/beheer").status_code == 303


@pytest.mark.parametrize("asked, expected", [
    ("/beheer/logboek", "/beheer/logboek"),
    ("/beheer/nummers?status=klaar", "/beheer/nummers?status=klaar"),
    ("//elders.example/beheer", "/beheer"),
    ("https://elders.example/beheer", "/beheer"),
    ("/beheer/../uitschrijven", "/beheer"),
    ("/beheerder", "/beheer"),
    ("/beheer\\@elders.example", "/beheer"),
    ("/beheer/aanmelden", "/beheer"),
    ("", "/beheer"),
])
def test_after_login_only_an_admin_page_of_this_site_is_a_destination(asked,
                                                                      expected) -> None:
    assert safe_next(asked) == expected


def test_login_brings_the_user_back_to_the_page_asked_for(db_settings, db, clock) -> None:
    make_user(db, db_settings, clock, "gus", Role.ADMIN)
    with anonymous_client(db_settings, db, clock) as client:
        sent = client.get("/beheer/logboek?pagina=2")
        path, query = _location(sent)
        assert sent.status_code == 303 and path == LOGIN
        assert query == {"volgende": ["/beheer/logboek?pagina=2"]}
        page = client.get(sent.headers["location"])
        assert 'name="volgende" value="/beheer/logboek?pagina=2"' in page.text
        answer = log_in(client, "gus", next_path="/beheer/logboek?pagina=2")
        assert answer.headers["location"] == "/beheer/logboek?pagina=2"
        # Logged in, the login page sends them on.
        assert client.get(LOGIN).headers["location"] == "/beheer"


# ---------------------------------------------------------------- CSRF

def test_login_and_logout_without_the_right_csrf_token_are_refused(db_settings, db,
                                                                   clock) -> None:
    make_user(db, db_settings, clock, "hans")
    credentials = {"naam": "hans", "wachtwoord": PASSWORD}
    with anonymous_client(db_settings, db, clock) as stranger:
        no_cookie = stranger.post(LOGIN, data={**credentials, "csrftoken": "x"})
    with anonymous_client(db_settings, db, clock) as client:
        token = form(client, LOGIN)
        missing = client.post(LOGIN, data=credentials)
        wrong = client.post(LOGIN, data={**credentials, "csrftoken": token[:-2] + "zz"})
        for refused in (no_cookie, missing, wrong):
            assert refused.status_code == 403 and "Dit mag niet" in refused.text
            assert refused.headers["cache-control"] == "no-store"
            assert COOKIE not in refused.headers.get("set-cookie", "")
        assert log_in(client, "hans").status_code == 303
        assert client.post(LOGOUT).status_code == 403
        assert client.post(LOGOUT, data={"csrftoken": token[:-2] + "zz"}).status_code == 403
        assert client.get("/beheer").status_code == 200  # still logged in
    assert [action for _actor, action in _audit(db)] == ["user.add", "login"]


def test_an_admin_action_needs_the_csrf_token_and_is_audited(db_settings, db, clock) -> None:
    with admin_client(db_settings, db, clock) as client:
        _proof_route(client)
        assert client.post("/beheer/proef").status_code == 403
        assert client.post("/beheer/proef", data={"csrftoken": "nep"}).status_code == 403
        done = client.post("/beheer/proef", data={"csrftoken": client.csrftoken})
        assert done.status_code == 200 and done.text == "ok test-admin"
        header = client.post("/beheer/proef", headers={"x-csrftoken": client.csrftoken})
        assert header.status_code == 200
    assert _audit(db)[-2:] == [("test-admin", "proef"), ("test-admin", "proef")]


# ---------------------------------------------------------------- roles and anonymity

def test_anonymous_visitors_go_to_the_login_page_or_get_401(db_settings, db, clock) -> None:
    with anonymous_client(db_settings, db, clock) as client:
        _proof_route(client)
        for path in ("/beheer", "/beheer/logboek", "/beheer/proef"):
            answer = client.get(path)
            assert answer.status_code == 303 and _location(answer)[0] == LOGIN
            assert answer.headers["cache-control"] == "no-store"
        assert _location(client.get("/beheer"))[1] == {}
        refused = client.post("/beheer/proef", data={"csrftoken": form(client, LOGIN)})
    assert refused.status_code == 401 and "Je bent niet aangemeld" in refused.text
    assert f'href="{LOGIN}"' in refused.text
    assert ("-", "proef") not in _audit(db)


def test_an_editor_is_refused_the_admin_only_pages_with_a_dutch_403(db_settings, db,
                                                                    clock) -> None:
    with admin_client(db_settings, db, clock, Role.EDITOR) as client:
        _proof_route(client)
        home = client.get("/beheer")
        for answer in (client.get("/beheer/logboek"), client.get("/beheer/proef"),
                       client.post("/beheer/proef", data={"csrftoken": client.csrftoken})):
            assert answer.status_code == 403
            assert "Hier heb je geen toegang" in answer.text
            assert answer.headers["cache-control"] == "no-store"
    assert ">Nummers</a>" in home.text and ">Abonnees</a>" not in home.text
    assert ">Logboek</a>" not in home.text and "(redacteur)" in home.text
    assert ("test-editor", "proef") not in _audit(db)


def test_an_admin_may_do_what_an_editor_may_and_more(db_settings, db, clock) -> None:
    assert Role.ADMIN.allows(Role.EDITOR) and Role.ADMIN.allows(Role.ADMIN)
    assert Role.EDITOR.allows(Role.EDITOR) and not Role.EDITOR.allows(Role.ADMIN)
    with admin_client(db_settings, db, clock, Role.ADMIN) as client:
        home = client.get("/beheer")
        log = client.get("/beheer/logboek")
    assert ">Abonnees</a>" in home.text and ">Logboek</a>" in home.text
    assert log.status_code == 200 and "aangemeld" in log.text and "test-admin" in log.text
    assert 'aria-current="page">Logboek' in log.text


# ---------------------------------------------------------------- lifetimes

def test_an_idle_session_expires_and_says_so(db_settings, db, clock) -> None:
    with admin_client(db_settings, db, clock, Role.EDITOR) as client:
        for _ in range(3):  # activity keeps it alive: 29 minutes at a time
            clock.advance(minutes=29)
            assert client.get("/beheer").status_code == 200
        clock.advance(minutes=30, seconds=1)
        expired = client.get("/beheer")
        path, query = _location(expired)
        assert expired.status_code == 303 and path == LOGIN
        assert query == {"sessie": ["verlopen"]}
        assert EXPIRED_NOTICE in client.get(expired.headers["location"]).text
        assert client.get("/beheer").status_code == 303  # the cookie was dropped


def test_a_post_after_the_session_expired_gets_a_401_that_says_so(db_settings, db,
                                                                  clock) -> None:
    with admin_client(db_settings, db, clock) as client:
        _proof_route(client)
        clock.advance(minutes=31)
        answer = client.post("/beheer/proef", data={"csrftoken": client.csrftoken})
    assert answer.status_code == 401 and EXPIRED_NOTICE in answer.text
    assert "sessie=verlopen" in answer.text
    assert ("test-admin", "proef") not in _audit(db)


def test_the_idle_time_is_a_setting(db_settings, db, clock) -> None:
    assert web_options({"DIGIWEETJES_WEB_ADMIN_IDLE_MINUTES": "10"}).admin_idle_minutes == 10
    assert WebOptions().admin_idle_minutes == 30
    settings = db_settings.with_(web=WebOptions(admin_idle_minutes=5))
    with admin_client(settings, db, clock) as client:
        clock.advance(minutes=4)
        assert client.get("/beheer").status_code == 200
        clock.advance(minutes=5, seconds=1)
        assert client.get("/beheer").status_code == 303


def test_a_session_ends_after_twelve_hours_however_active(db_settings, db, clock) -> None:
    with admin_client(db_settings, db, clock) as client:
        for _ in range(12 * 3):  # a request every 20 minutes, up to 12 hours after login
            clock.advance(minutes=20)
            assert client.get("/beheer").status_code == 200
        clock.advance(minutes=1)  # idle for a minute only, but past 12 hours
        answer = client.get("/beheer")
    assert answer.status_code == 303 and _location(answer)[1] == {"sessie": ["verlopen"]}


@pytest.mark.parametrize("change", ["reset", "remove"])
def test_a_password_reset_or_removal_ends_the_users_sessions(db_settings, db, clock,
                                                             change) -> None:
    with admin_client(db_settings, db, clock, Role.EDITOR) as client:
        assert client.get("/beheer").status_code == 200
        with db.session(write=True) as session:
            if change == "reset":
                reset_password(session, clock, "test-editor", "een-nieuw-wachtwoord",
                               actor="cli")
            else:
                remove_user(session, clock, "test-editor", actor="cli")
        answer = client.get("/beheer")
    assert answer.status_code == 303 and _location(answer)[1] == {"sessie": ["verlopen"]}


def test_every_beheer_answer_is_no_store(db_settings, db, clock) -> None:
    with admin_client(db_settings, db, clock) as client:
        answers = [client.get(p) for p in ("/beheer", "/beheer/logboek", "/beheer/stijl.css",
                                           "/beheer/bestaat-niet", LOGIN)]
        answers.append(client.put("/beheer"))
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 303, 405]
    assert {a.headers["cache-control"] for a in answers} == {"no-store"}
    assert answers[2].headers["content-type"].startswith("text/css")
