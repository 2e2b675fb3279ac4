"""SendGrid: personalizations, clash-free substitutions, spec validation, X-Message-Id."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from digiweetjes.config import Secret
from digiweetjes.devtools.fake_provider.engines import render_sendgrid
from digiweetjes.errors import PermanentProviderError, TransientProviderError
from digiweetjes.providers.base import Batch, BatchContent
from digiweetjes.providers.sendgrid import SendGridProvider
from digiweetjes.render.placeholders import FillableTemplate, placeholder
from tests.providers_support import KEY, batch, content, mock, recipient
from tests.spec_support import openapi_validator


def _capture(region: str = "us"):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, headers={"X-Message-Id": "sgid123"})

    return seen, SendGridProvider(Secret(KEY), region=region, transport=mock(handler))


def test_request_shape() -> None:
    seen, provider = _capture()
    b = batch(3)
    results = provider.send_batch(b)
    request = seen[0]
    assert str(request.url) == "https://api.sendgrid.com/v3/mail/send"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["categories"] == ["digiweetjes-2026-12"]
    assert body["from"] == {"email": "digiweetjes@werkkracht10.be",
                            "name": "Werkkracht10 Digi-weetjes"}
    p = body["personalizations"][2]
    r = b.recipients[2]
    assert p["to"] == [{"email": r.email, "name": r.name}]
    assert p["custom_args"] == {"ref": "del-2", "issue": "2026-12"}
    assert p["headers"]["List-Unsubscribe"].startswith(f"<{r.unsubscribe_url}>")
    assert p["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert p["substitutions"]["-dw-h-name-"] == r.html_values["name"]
    assert "-dw-t-name-" in body["content"][0]["value"]
    assert all(x.message_id == "sgid123" and x.status == "sent" for x in results)


def test_substitution_keys_never_clash_with_content_or_values() -> None:
    seen, provider = _capture()
    c = content(tricky=True)
    assert "-dw-" in c.html.source
    b = Batch(BatchContent(**{**c.__dict__,
                              "text": FillableTemplate.parse("-dw1- " + c.text.source)}),
              [recipient(0)])
    provider.send_batch(b)
    body = json.loads(seen[0].content)
    keys = body["personalizations"][0]["substitutions"]
    assert all(k.startswith("-dw2-") for k in keys)
    r = b.recipients[0]
    html = next(x["value"] for x in body["content"] if x["type"] == "text/html")
    text = next(x["value"] for x in body["content"] if x["type"] == "text/plain")
    assert render_sendgrid(html, keys) == b.content.html.fill(r.html_values)
    assert render_sendgrid(text, keys) == b.content.text.fill(r.text_values)


def test_bodies_validate_against_sendgrids_openapi() -> None:
    validator = openapi_validator("sendgrid-mail-v3.yaml", "/v3/mail/send")
    seen, provider = _capture()
    provider.send_batch(batch(1000, tricky=True))
    provider.send_batch(batch(1))
    for request in seen:
        errors = [e.message for e in validator.iter_errors(json.loads(request.content))]
        assert errors == []
    bad = json.loads(seen[1].content)
    bad["categories"] = [f"c{i}" for i in range(11)]
    assert list(validator.iter_errors(bad))


def test_eu_region_and_rate_limit_reset_epoch() -> None:
    seen, provider = _capture("eu")
    provider.send_batch(batch(1))
    assert str(seen[0].url) == "https://api.eu.sendgrid.com/v3/mail/send"
    reset = int(time.time()) + 30

    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"errors": [{"message": "too many", "field": None}]},
                              headers={"X-RateLimit-Reset": str(reset)})

    provider = SendGridProvider(Secret(KEY), transport=mock(limited))
    with pytest.raises(TransientProviderError) as info:
        provider.send_batch(batch(1))
    assert 25 <= (info.value.retry_after or 0) <= 31


def test_error_list_becomes_the_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"errors": [
            {"message": "Does not contain a valid address.", "field": "personalizations.0.to"}]})

    provider = SendGridProvider(Secret(KEY), transport=mock(handler))
    with pytest.raises(PermanentProviderError,
                       match=r"personalizations\.0\.to: Does not contain a valid address"):
        provider.send_batch(batch(1))


def test_empty_text_part_is_left_out() -> None:
    seen, provider = _capture()
    c = content()
    provider.send_batch(Batch(BatchContent(**{**c.__dict__, "text": FillableTemplate.parse("")}),
                              [recipient(0)]))
    assert [x["type"] for x in json.loads(seen[0].content)["content"]] == ["text/html"]
    assert placeholder("name") not in seen[0].content.decode()
