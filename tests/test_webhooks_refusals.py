"""Every bad webhook request through the ASGI app: a bad, missing or outdated signature or
secret is a 401 that changes nothing (every table counted), a malformed body a 400, an oversized
one a 413, another method a 405; no answer and no log line shows a secret."""

from __future__ import annotations

import base64
import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from digiweetjes.config import Secret
from digiweetjes.db import Database
from digiweetjes.web.options import WebhookSecrets
from tests.sending_support import add_subscriber
from tests.web_support import web_client
from tests.webhook_support import (
    MAILGUN_KEY,
    PROVIDERS,
    SHARED_SECRET,
    WebhookKeys,
    post,
    sample,
    signed,
    table_counts,
)

EMAIL = "lid0@example.be"
SIGNED = ("mailgun", "resend", "sendgrid")
SHARED = ("brevo", "mailjet", "postmark")


@pytest.fixture
def keys() -> WebhookKeys:
    return WebhookKeys()


@pytest.fixture
def app(db, db_settings, clock, keys):
    settings = keys.configure(db_settings)
    add_subscriber(db, settings, EMAIL, now=clock.now() - timedelta(days=1))
    with web_client(settings, db, clock) as client:
        yield client


def hard(provider: str) -> list[dict]:
    return [sample(provider, "hard", EMAIL)]


def refused(app, db, request, status: int = 401, **changes) -> str:
    """Post, expect ``status`` and an unchanged database; the answer's text."""
    before = table_counts(db)
    response = post(app, request, **changes)
    assert response.status_code == status, response.text
    assert table_counts(db) == before
    assert "Traceback" not in response.text
    return response.text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_tampered_body_is_refused(app, db, keys, clock, provider) -> None:
    request = signed(keys, provider, hard(provider), clock.now())
    tampered = request.body.replace(b"lid0@example.be", b"lid9@example.be")
    assert tampered != request.body
    if provider == "mailgun":
        # Mailgun signs the timestamp and token, not the body: a captured signature could
        # carry another body, which is why its token is accepted only once.
        assert post(app, request).status_code == 200
        refused(app, db, request, body=tampered)
    elif provider in SIGNED:
        refused(app, db, request, body=tampered)
    else:  # nothing signs the body: the secret is what proves the sender
        assert post(app, request, body=tampered).status_code == 200


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_missing_signature_or_secret_is_refused(app, db, keys, clock, provider) -> None:
    request = signed(keys, provider, hard(provider), clock.now())
    if provider == "mailgun":
        body = request.body.replace(b'"signature":{', b'"signed":{', 1)
        refused(app, db, request, body=body)
    else:
        refused(app, db, request, headers={"content-type": "application/json"})


@pytest.mark.parametrize("provider", SIGNED)
def test_a_signature_made_with_another_key_is_refused(app, db, clock, provider) -> None:
    other = WebhookKeys(mailgun="key-someone-else")
    refused(app, db, signed(other, provider, hard(provider), clock.now()))


@pytest.mark.parametrize("provider", SHARED)
def test_the_shared_secret_is_taken_from_basic_auth_bearer_or_the_url(app, db, keys, clock,
                                                                      provider) -> None:
    request = signed(keys, provider, hard(provider), clock.now())
    plain = {"content-type": "application/json"}
    wrong = base64.b64encode(f"{provider}:not-the-secret".encode()).decode()
    refused(app, db, request, headers={**plain, "authorization": f"Basic {wrong}"})
    refused(app, db, request, headers={**plain, "authorization": "Bearer not-the-secret"})
    refused(app, db, request, path=f"/webhooks/{provider}?token=not-the-secret", headers=plain)
    refused(app, db, request, headers={**plain, "authorization": "Basic !!!"})
    ok = post(app, request, path=f"/webhooks/{provider}?token={SHARED_SECRET}", headers=plain)
    assert ok.status_code == 200 and "bounced 1" in ok.text
    for headers in ({**plain, "authorization": f"Bearer {SHARED_SECRET}"}, request.headers):
        assert post(app, request, headers=headers).status_code == 200  # repeats, harmless


@pytest.mark.parametrize("provider", SIGNED)
def test_an_old_or_future_timestamp_is_refused_as_a_replay(app, db, keys, clock, db_settings,
                                                           provider) -> None:
    age = db_settings.web.webhook_max_age_seconds
    for moment in (clock.now() - timedelta(seconds=age + 5),
                   clock.now() + timedelta(seconds=age + 5)):
        refused(app, db, signed(keys, provider, hard(provider), moment))
    recent = signed(keys, provider, hard(provider), clock.now() - timedelta(seconds=age - 5))
    assert post(app, recent).status_code == 200


def test_a_mailgun_token_is_used_once(app, db, keys, clock) -> None:
    first = signed(keys, "mailgun", [sample("mailgun", "delivered", EMAIL)], clock.now(),
                   token="t" * 50)
    assert post(app, first).status_code == 200
    # Another event with the same token (and so the same signature): a replay.
    second = signed(keys, "mailgun", [sample("mailgun", "hard", EMAIL, n=1)], clock.now(),
                    token="t" * 50)
    refused(app, db, second)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_malformed_body_after_authentication_is_400(app, db, keys, clock, provider) -> None:
    for body in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"):
        request = signed(keys, provider, hard(provider), clock.now())
        if provider == "mailgun":
            # The signature travels in the body: a body without it is not authenticated.
            refused(app, db, replace(request, body=body))
            continue
        request = _resigned(keys, provider, body, clock)
        status = 401 if provider == "resend" and body == b"\xff\xfe" else 400
        refused(app, db, request, status)
    if provider == "mailgun":  # signed, but no event-data
        request = signed(keys, "mailgun", hard("mailgun"), clock.now())
        body = request.body.replace(b'"event-data"', b'"other-data"')
        refused(app, db, request, 400, body=body)


def _resigned(keys: WebhookKeys, provider: str, body: bytes, clock):
    """A request carrying ``body`` as-is, signed as ``provider`` signs."""
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from svix.webhooks import Webhook

    request = signed(keys, provider, hard(provider), clock.now())
    headers = dict(request.headers)
    stamp = str(int(clock.now().timestamp()))
    if provider == "sendgrid":
        signature = keys.sendgrid.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers["x-twilio-email-event-webhook-signature"] = base64.b64encode(signature).decode()
    if provider == "resend":
        msg_id = "msg_" + hashlib.sha256(body).hexdigest()[:20]
        try:
            signature = Webhook(keys.resend).sign(msg_id, clock.now(), body.decode())
        except UnicodeDecodeError:
            signature = "v1,AAAA"
        headers.update({"svix-id": msg_id, "svix-signature": signature})
    return replace(request, body=body, headers=headers)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unconfigured_provider_is_refused_and_the_log_names_the_variable(
        db, db_settings, clock, keys, caplog, provider) -> None:
    settings = db_settings.with_(webhook_secret=Secret(""), web=replace(
        db_settings.web, webhooks=WebhookSecrets()))
    request = signed(keys, provider, hard(provider), clock.now())
    with caplog.at_level(logging.WARNING, logger="digiweetjes"), \
            web_client(settings, db, clock) as client:
        refused(client, db, request)
    variable = {"sendgrid": "DIGIWEETJES_WEBHOOK_SENDGRID_PUBLIC_KEY",
                "mailgun": "DIGIWEETJES_WEBHOOK_MAILGUN_SIGNING_KEY",
                "resend": "DIGIWEETJES_WEBHOOK_RESEND_SECRET"}.get(
                    provider, "DIGIWEETJES_WEBHOOK_SECRET")
    assert variable in caplog.text


def test_no_answer_or_log_line_shows_a_secret(app, db, keys, clock, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="digiweetjes"):
        texts = []
        for provider in PROVIDERS:
            request = signed(keys, provider, hard(provider), clock.now())
            texts.append(post(app, request, body=request.body + b" ").text)
            texts.append(post(app, request, headers={}).text)
            texts.append(post(app, request).text)
    shown = " ".join(texts) + caplog.text
    for secret in (SHARED_SECRET, MAILGUN_KEY, keys.resend, keys.resend[6:],
                   keys.sendgrid_public):
        assert secret not in shown


def test_other_methods_unknown_providers_and_big_bodies(app, db, keys, clock,
                                                        db_settings) -> None:
    before = table_counts(db)
    for method in ("GET", "PUT", "DELETE"):
        response = app.request(method, "/webhooks/sendgrid")
        assert response.status_code == 405 and response.headers["allow"] == "POST"
        assert response.headers["content-type"].startswith("text/plain")
    assert app.post("/webhooks/outbox", content=b"[]").status_code == 404
    assert app.post("/webhooks/", content=b"[]").status_code in (404, 405)
    limit = int(db_settings.web.webhook_max_bytes)
    request = signed(keys, "sendgrid", hard("sendgrid"), clock.now())
    big = refused(app, db, request, 413, body=b"[" + b" " * limit + b"]")
    assert big.startswith("413")

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    streamed = app.post("/webhooks/sendgrid", content=chunks(), headers=request.headers)
    assert streamed.status_code == 413
    assert table_counts(db) == before


def test_an_unusable_database_is_503_so_the_provider_retries(tmp_path, settings, keys,
                                                             clock) -> None:
    path = tmp_path / "broken.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    configured = keys.configure(settings.with_(database_url=database.url))
    with web_client(configured, database, clock) as client:
        database.engine.dispose()
        path.write_bytes(b"this is not a database " * 1000)
        response = post(client, signed(keys, "postmark", hard("postmark"), clock.now()))
    database.dispose()
    assert response.status_code == 503
    assert "Traceback" not in response.text
