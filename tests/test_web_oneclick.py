"""RFC 8058 one-click's fast path (``web.public.oneclick``): the same answer as the full app,
and everything it does not complete handed on to the full app with its body."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from digiweetjes.models import ConsentEvent, Suppression
from digiweetjes.subscribers.tokens import Purpose
from digiweetjes.web import create_app
from digiweetjes.web.middleware import SECURITY_HEADERS
from digiweetjes.web.public.oneclick import OneClickFastPath
from tests.helpers_subscribers import RecordingProvider
from tests.web_public_support import (
    ONE_CLICK,
    ONE_CLICK_MULTIPART,
    active_subscriber,
    client_for,
    status_of,
    token_for,
)

BODY = b"List-Unsubscribe=One-Click"
URLENCODED = b"application/x-www-form-urlencoded"


def test_the_fast_answer_is_the_full_apps_answer(db, db_settings, clock) -> None:
    """The same page, status and headers as the full app's answer to a multipart one-click
    (which the fast path leaves alone)."""
    active_subscriber(db, db_settings, clock, RecordingProvider())
    token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE)
    multipart, headers = ONE_CLICK_MULTIPART
    with client_for(db_settings, db, clock) as provider:
        fast = provider.post(f"/uitschrijven/{token}", data=ONE_CLICK)
        full = provider.post(f"/uitschrijven/{token}", content=multipart, headers=headers)
    assert (fast.status_code, fast.text) == (full.status_code, full.text)
    assert "Je bent uitgeschreven" in fast.text
    assert {k: v for k, v in fast.headers.items() if k != "date"} == \
        {k: v for k, v in full.headers.items() if k != "date"}
    for name, value in SECURITY_HEADERS:
        assert fast.headers[name.decode()] == value.decode()
    assert "set-cookie" not in fast.headers and fast.headers["cache-control"] == "no-store"


class _FullApp:
    """Stands for the app behind the fast path: records what reaches it, answers 299."""

    def __init__(self) -> None:
        self.reached: list[tuple[str, bytes]] = []

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.reached.append((scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _post(fast_path: OneClickFastPath, path: str, body: bytes, *,
          content_type: bytes = URLENCODED, method: str = "POST") -> int:
    """One request straight through the ASGI middleware (on a loop of its own thread)."""
    scope = {"type": "http", "method": method, "path": path, "client": ("192.0.2.7", 5000),
             "headers": [(b"content-type", content_type),
                         (b"content-length", str(len(body)).encode())]}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message) -> None:
        sent.append(message)

    with ThreadPoolExecutor(max_workers=1) as loop_thread:
        loop_thread.submit(lambda: asyncio.run(fast_path(scope, receive, send))).result(60)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


@pytest.fixture
def fast_path(db, db_settings, clock):
    app = create_app(db_settings, clock=clock, db=db, provider=RecordingProvider())
    full = _FullApp()
    yield OneClickFastPath(full, app.state.context), full
    app.state.context.close()


def test_an_exact_one_click_is_answered_without_the_full_app(db, db_settings, clock,
                                                             fast_path) -> None:
    middleware, full = fast_path
    active_subscriber(db, db_settings, clock, RecordingProvider())
    token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE)
    assert _post(middleware, f"/uitschrijven/{token}", BODY) == 200
    assert full.reached == []
    assert status_of(db) == "unsubscribed"
    with db.session() as session:
        assert [e.event for e in session.scalars(select(ConsentEvent))].count(
            "unsubscribed") == 1
        assert session.scalar(select(Suppression.reason)) == "unsubscribed"


@pytest.mark.parametrize("path, body, content_type, method", [
    ("/uitschrijven/{token}", BODY + b"&csrftoken=x", URLENCODED, "POST"),   # a form's post
    ("/uitschrijven/{token}", BODY, b"text/plain", "POST"),
    ("/uitschrijven/{token}", BODY, URLENCODED + b"; charset=utf-8", "GET"),
    ("/uitschrijven/{token}/meer", BODY, URLENCODED, "POST"),
    ("/uitschrijven/", BODY, URLENCODED, "POST"),
    ("/voorkeuren/{token}", BODY, URLENCODED, "POST"),
])
def test_anything_else_goes_to_the_full_app_untouched(db, db_settings, clock, fast_path,
                                                      path, body, content_type,
                                                      method) -> None:
    middleware, full = fast_path
    active_subscriber(db, db_settings, clock, RecordingProvider())
    token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE)
    path = path.format(token=token)
    assert _post(middleware, path, body, content_type=content_type, method=method) == 299
    assert full.reached == [(path, body)]
    assert status_of(db) == "active"


def test_a_link_that_fails_goes_to_the_full_app_with_its_body(db, db_settings, clock,
                                                              fast_path) -> None:
    """Forged here; the full app then answers with the Dutch page (test_web_public_refusals)."""
    middleware, full = fast_path
    active_subscriber(db, db_settings, clock, RecordingProvider())
    token = token_for(db, db_settings, clock, Purpose.UNSUBSCRIBE)
    forged = f"/uitschrijven/{token[:-4]}xxxx"
    assert _post(middleware, forged, BODY) == 299
    assert full.reached == [(forged, BODY)]
    assert status_of(db) == "active"


def test_a_database_that_fails_goes_to_the_full_app(db, db_settings, clock, fast_path,
                                                    monkeypatch) -> None:
    from digiweetjes.errors import StorageError

    middleware, full = fast_path
    token = "x" * 40

    async def broken(_job):
        raise StorageError("de databank is niet bruikbaar")

    monkeypatch.setattr(middleware.context, "write", broken)
    assert _post(middleware, f"/uitschrijven/{token}", BODY) == 299
    assert full.reached == [(f"/uitschrijven/{token}", BODY)]
