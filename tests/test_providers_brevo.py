"""Brevo: exact request shape, template escaping, ids per version, idempotency."""

from __future__ import annotations

import json
import uuid

import httpx

from digiweetjes.config import Secret
from digiweetjes.devtools.fake_provider.engines import render_brevo
from digiweetjes.providers.brevo import BrevoProvider, escape_literal, idempotency_uuid
from tests.providers_support import KEY, TRICKY, batch, mock


def _capture(responses: list[httpx.Response] | None = None):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n = len(json.loads(request.content)["messageVersions"])
        return httpx.Response(201, json={"messageIds": [f"<id{i}@relay>" for i in range(n)]})

    return seen, BrevoProvider(Secret(KEY), transport=mock(handler))


def test_request_shape() -> None:
    seen, provider = _capture()
    b = batch(3, key="batch-7")
    results = provider.send_batch(b)
    request = seen[0]
    assert request.method == "POST" and str(request.url) == "https://api.brevo.com/v3/smtp/email"
    assert request.headers["api-key"] == KEY
    body = json.loads(request.content)
    assert "to" not in body
    assert body["sender"] == {"email": "digiweetjes@werkkracht10.be",
                              "name": "Werkkracht10 Digi-weetjes"}
    assert body["tags"] == ["digiweetjes-2026-12"]
    assert body["replyTo"] == {"email": "info@werkkracht10.be"}
    assert body["htmlContent"].startswith("{% autoescape off %}")
    assert "{{ params.h_name }}" in body["htmlContent"]
    assert "{{ params.t_name }}" in body["textContent"]
    assert len(body["messageVersions"]) == 3
    version = body["messageVersions"][1]
    r = b.recipients[1]
    assert version["to"] == [{"email": r.email, "name": r.name}]
    assert version["params"]["h_name"] == r.html_values["name"]
    assert version["params"]["t_name"] == r.text_values["name"]
    assert version["headers"] == {
        "List-Unsubscribe": f"<{r.unsubscribe_url}>, "
                            "<mailto:uitschrijven@werkkracht10.be?subject=uitschrijven>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Digiweetjes-Ref": "del-1", "X-Mailin-custom": "del-1"}
    assert body["headers"]["idempotencyKey"] == idempotency_uuid("batch-7")
    uuid.UUID(body["headers"]["idempotencyKey"])
    assert [x.message_id for x in results] == ["<id0@relay>", "<id1@relay>", "<id2@relay>"]
    assert [x.reference for x in results] == ["del-0", "del-1", "del-2"]


def test_idempotency_key_is_a_stable_uuid() -> None:
    key = str(uuid.uuid4())
    assert idempotency_uuid(key) == key
    assert idempotency_uuid("issue-7/batch-3") == idempotency_uuid("issue-7/batch-3")
    assert idempotency_uuid("issue-7/batch-3") != idempotency_uuid("issue-7/batch-4")
    seen, provider = _capture()
    provider.send_batch(batch(1))
    assert "headers" not in json.loads(seen[0].content)


def test_literal_template_syntax_survives_brevos_engine() -> None:
    seen, provider = _capture()
    b = batch(2, tricky=True)
    provider.send_batch(b)
    body = json.loads(seen[0].content)
    for version, r in zip(body["messageVersions"], b.recipients, strict=True):
        params = {**body["params"], **version["params"]}
        assert render_brevo(body["htmlContent"], params) == \
            b.content.html.fill(r.html_values)
        assert render_brevo(body["textContent"], params) == \
            b.content.text.fill(r.text_values)
        assert render_brevo(body["subject"], params) == b.content.subject
    assert render_brevo(escape_literal(TRICKY), {"dw_lb": "{"}) == TRICKY


def test_duplicate_idempotency_refusal_means_accepted_earlier() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"code": "duplicate_request",
                                         "message": "duplicate idempotency key"})

    provider = BrevoProvider(Secret(KEY), transport=mock(handler))
    results = provider.send_batch(batch(2, key="k"))
    assert [r.status for r in results] == ["sent", "sent"]


def test_error_reason_uses_code_and_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(402, json={"code": "not_enough_credits",
                                         "message": "Not enough credits"})

    provider = BrevoProvider(Secret(KEY), transport=mock(handler))
    try:
        provider.send_batch(batch(1))
    except Exception as exc:
        assert "not_enough_credits: Not enough credits" in str(exc)
    else:
        raise AssertionError("402 must raise")
