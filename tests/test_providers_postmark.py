"""Postmark: batch array, client-side personalization, per-message results."""

from __future__ import annotations

import json

import httpx
import pytest

from digiweetjes.config import Secret
from digiweetjes.errors import PermanentProviderError
from digiweetjes.providers.postmark import PostmarkProvider
from tests.providers_support import KEY, batch, mock


def test_request_shape_and_per_message_results() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[
            {"ErrorCode": 0, "Message": "OK", "MessageID": "m-0", "To": "lid0@example.be"},
            {"ErrorCode": 406, "Message": "Inactive recipient", "To": "lid1@example.be"},
            {"ErrorCode": 0, "Message": "OK", "MessageID": "m-2", "To": "lid2@example.be"}])

    provider = PostmarkProvider(Secret(KEY), transport=mock(handler))
    b = batch(3, tricky=True)
    results = provider.send_batch(b)
    request = seen[0]
    assert str(request.url) == "https://api.postmarkapp.com/email/batch"
    assert request.headers["X-Postmark-Server-Token"] == KEY
    body = json.loads(request.content)
    assert isinstance(body, list) and len(body) == 3
    r = b.recipients[1]
    message = body[1]
    assert message["From"] == "Werkkracht10 Digi-weetjes <digiweetjes@werkkracht10.be>"
    assert message["To"] == "Lid 1 <lid1@example.be>"
    assert message["Subject"] == b.content.subject
    assert message["HtmlBody"] == b.content.html.fill(
        r.html_values)
    assert message["TextBody"] == b.content.text.fill(
        r.text_values)
    assert {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"} in \
        message["Headers"]
    assert {"Name": "List-Unsubscribe", "Value": f"<{r.unsubscribe_url}>, "
            "<mailto:uitschrijven@werkkracht10.be?subject=uitschrijven>"} in message["Headers"]
    assert message["Tag"] == "digiweetjes-2026-12"
    assert message["Metadata"] == {"ref": "del-1", "issue": "2026-12"}
    assert message["MessageStream"] == "broadcast"
    assert [(x.status, x.message_id) for x in results] == [
        ("sent", "m-0"), ("failed", None), ("sent", "m-2")]
    assert results[1].reason == "406: Inactive recipient"


def test_message_stream_is_configurable_and_422_is_permanent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(422, json={"ErrorCode": 300, "Message": "Invalid email request"})

    provider = PostmarkProvider(Secret(KEY), message_stream="digiweetjes",
                                transport=mock(handler))
    with pytest.raises(PermanentProviderError, match="300: Invalid email request"):
        provider.send_batch(batch(1))
    assert json.loads(seen[0].content)[0]["MessageStream"] == "digiweetjes"
