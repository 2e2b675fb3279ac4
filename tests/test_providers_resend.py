"""Resend: batch array, tags, Idempotency-Key, 409 handling, spec validation."""

from __future__ import annotations

import json

import httpx
import pytest

from digiweetjes.config import Secret
from digiweetjes.errors import PermanentProviderError, TransientProviderError
from digiweetjes.providers.messages import decode_tag_value
from digiweetjes.providers.resend import ResendProvider, idempotency_header
from tests.providers_support import KEY, batch, mock, recipient
from tests.spec_support import openapi_validator


def _capture(answer=None):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n = len(json.loads(request.content))
        return answer() if answer else httpx.Response(
            200, json={"data": [{"id": f"id-{i}"} for i in range(n)]})

    return seen, ResendProvider(Secret(KEY), transport=mock(handler))


def test_request_shape() -> None:
    seen, provider = _capture()
    b = batch(3, key="issue-7/batch-1", tricky=True)
    results = provider.send_batch(b)
    request = seen[0]
    assert str(request.url) == "https://api.resend.com/emails/batch"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Idempotency-Key"] == "issue-7/batch-1"
    body = json.loads(request.content)
    email, r = body[1], b.recipients[1]
    assert email["from"] == "Werkkracht10 Digi-weetjes <digiweetjes@werkkracht10.be>"
    assert email["to"] == ["Lid 1 <lid1@example.be>"]
    assert email["html"] == b.content.html.fill(r.html_values)
    assert email["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    tags = {t["name"]: t["value"] for t in email["tags"]}
    assert decode_tag_value(tags["ref"]) == "del-1"
    assert decode_tag_value(tags["issue"]) == "digiweetjes-2026-12"
    assert [x.message_id for x in results] == ["id-0", "id-1", "id-2"]
    provider.send_batch(batch(1))
    assert "Idempotency-Key" not in seen[1].headers


def test_bodies_validate_against_resends_openapi() -> None:
    validator = openapi_validator("resend.yaml", "/emails/batch")
    seen, provider = _capture()
    odd = recipient(5)
    provider.send_batch(batch(100, tricky=True))
    provider.send_batch(type(batch(1))(batch(1).content, [odd]))
    for request in seen:
        assert [e.message for e in validator.iter_errors(json.loads(request.content))] == []
    assert list(validator.iter_errors([{"from": "a@b.be"}]))


def test_long_keys_are_hashed_to_the_documented_length() -> None:
    assert idempotency_header("k" * 256) == "k" * 256
    assert len(idempotency_header("k" * 300)) <= 256
    assert idempotency_header("k" * 300) != idempotency_header("k" * 301)


def test_409_concurrent_is_transient_and_invalid_is_permanent() -> None:
    _, provider = _capture(lambda: httpx.Response(409, json={
        "statusCode": 409, "name": "concurrent_idempotent_requests", "message": "in progress"}))
    with pytest.raises(TransientProviderError):
        provider.send_batch(batch(1, key="k"))
    _, provider = _capture(lambda: httpx.Response(409, json={
        "statusCode": 409, "name": "invalid_idempotent_request", "message": "other body"}))
    with pytest.raises(PermanentProviderError, match="invalid_idempotent_request"):
        provider.send_batch(batch(1, key="k"))


def test_retry_after_header_on_429() -> None:
    _, provider = _capture(lambda: httpx.Response(
        429, json={"statusCode": 429, "name": "rate_limit_exceeded", "message": "slow down"},
        headers={"retry-after": "3", "ratelimit-remaining": "0", "ratelimit-reset": "3"}))
    with pytest.raises(TransientProviderError) as info:
        provider.send_batch(batch(1))
    assert info.value.retry_after == 3
    assert provider.rate_limit is not None and provider.rate_limit.remaining == 0
