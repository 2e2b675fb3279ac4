"""Mailjet: Globals + Messages, TemplateLanguage or client-side fallback, partial success."""

from __future__ import annotations

import json

import httpx

from digiweetjes.config import Secret
from digiweetjes.devtools.fake_provider.engines import render_mailjet
from digiweetjes.providers.http import basic_auth
from digiweetjes.providers.mailjet import MailjetProvider, needs_client_side
from tests.providers_support import KEY, KEY2, batch, content, mock


def _capture(answer=None):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n = len(json.loads(request.content)["Messages"])
        return answer(n) if answer else httpx.Response(200, json={"Messages": [
            {"Status": "success", "CustomID": f"del-{i}",
             "To": [{"Email": f"lid{i}@example.be", "MessageUUID": "u", "MessageID": 1000 + i}]}
            for i in range(n)]})

    return seen, MailjetProvider(Secret(KEY), Secret(KEY2), transport=mock(handler))


def test_server_side_variables_one_body_per_request() -> None:
    seen, provider = _capture()
    b = batch(3)
    results = provider.send_batch(b)
    request = seen[0]
    assert str(request.url) == "https://api.mailjet.com/v3.1/send"
    assert request.headers["Authorization"] == basic_auth(KEY, KEY2)
    body = json.loads(request.content)
    g = body["Globals"]
    assert g["TemplateLanguage"] is True
    assert g["CustomCampaign"] == "digiweetjes-2026-12"
    assert "{{var:h_name}}" in g["HTMLPart"] and "{{var:t_name}}" in g["TextPart"]
    for message, r in zip(body["Messages"], b.recipients, strict=True):
        assert "HTMLPart" not in message
        assert message["To"] == [{"Email": r.email, "Name": r.name}]
        assert message["CustomID"] == r.reference
        assert message["Headers"]["List-Unsubscribe"].startswith(f"<{r.unsubscribe_url}>")
        assert message["Headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert render_mailjet(g["HTMLPart"], message["Variables"]) == b.content.html.fill(
            r.html_values)
    assert [x.message_id for x in results] == ["1000", "1001", "1002"]


def test_literal_delimiters_switch_to_client_side_without_template_language() -> None:
    assert needs_client_side(content(tricky=True))
    assert not needs_client_side(content())
    seen, provider = _capture()
    b = batch(2, tricky=True)
    provider.send_batch(b)
    body = json.loads(seen[0].content)
    assert "TemplateLanguage" not in body["Globals"] and "HTMLPart" not in body["Globals"]
    for message, r in zip(body["Messages"], b.recipients, strict=True):
        assert "Variables" not in message
        assert message["HTMLPart"] == b.content.html.fill(
            r.html_values)


def test_partial_success_is_read_per_message_even_with_400() -> None:
    def answer(n: int) -> httpx.Response:
        return httpx.Response(400, json={"Messages": [
            {"Status": "success", "To": [{"Email": "lid0@example.be", "MessageID": 7}]},
            {"Status": "error", "Errors": [{"ErrorCode": "send-0003", "StatusCode": 400,
                                            "ErrorMessage": "Invalid To address"}]}]})

    _, provider = _capture(answer)
    results = provider.send_batch(batch(2))
    assert [(r.status, r.message_id) for r in results] == [("sent", "7"), ("failed", None)]
    assert results[1].reason == "send-0003 Invalid To address"


def test_a_400_without_per_message_results_is_permanent() -> None:
    import pytest

    from digiweetjes.errors import PermanentProviderError

    def answer(n: int) -> httpx.Response:
        return httpx.Response(400, json={"ErrorIdentifier": "x", "ErrorCode": "mj-0002",
                                         "ErrorMessage": "Malformed JSON"})

    _, provider = _capture(answer)
    with pytest.raises(PermanentProviderError, match="Malformed JSON"):
        provider.send_batch(batch(2))
