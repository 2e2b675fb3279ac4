"""Behaviour all six adapters share: error translation, retry hints, limits, headers, secrets."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest

from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret, Settings
from digiweetjes.errors import (
    ConfigError,
    PermanentProviderError,
    TransientProviderError,
    UncertainOutcomeError,
)
from digiweetjes.providers import brevo, mailgun
from digiweetjes.providers.base import Batch, Provider
from digiweetjes.providers.brevo import BrevoProvider
from digiweetjes.providers.http import rate_limit_state, retry_after_seconds
from digiweetjes.providers.mailgun import MailgunProvider
from digiweetjes.providers.mailjet import MailjetProvider
from digiweetjes.providers.messages import (
    chunked,
    decode_tag_value,
    encode_multipart,
    format_address,
    safe_tag_value,
)
from digiweetjes.providers.postmark import PostmarkProvider
from digiweetjes.providers.resend import ResendProvider
from digiweetjes.providers.sendgrid import SendGridProvider
from digiweetjes.render.placeholders import FillableTemplate
from tests.providers_support import FACTORIES, KEY, KEY2, batch, content, mock, recipient

NAMES = sorted(FACTORIES)


def _raising(exc: Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    return mock(handler)


def _status(status: int, body: object = None, headers: dict[str, str] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)
    return mock(handler)


@pytest.mark.parametrize("name", NAMES)
def test_every_adapter_is_a_provider(name: str) -> None:
    provider = FACTORIES[name]()
    assert isinstance(provider, Provider)
    assert provider.name == name
    assert provider.capabilities.max_batch == {"brevo": 1000, "postmark": 500, "sendgrid": 1000,
                                               "mailgun": 1000, "mailjet": 50, "resend": 100}[name]
    assert (provider.capabilities.idempotency is not None) == (name in ("brevo", "resend"))
    provider.close()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("exc, expected", [
    (httpx.ConnectError("refused"), TransientProviderError),
    (httpx.ConnectTimeout("slow connect"), TransientProviderError),
    (httpx.PoolTimeout("pool"), TransientProviderError),
    (httpx.WriteTimeout("write"), TransientProviderError),
    (httpx.ReadTimeout("read"), UncertainOutcomeError),
    (httpx.ReadError("reset"), UncertainOutcomeError),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."),
     UncertainOutcomeError),
])
def test_transport_errors_are_translated_once(name: str, exc: Exception,
                                              expected: type[Exception]) -> None:
    provider = FACTORIES[name](transport=_raising(exc))
    with pytest.raises(expected) as info:
        provider.send_batch(batch(2))
    assert info.value.__cause__ is exc


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_5xx_and_429_are_transient(name: str, status: int) -> None:
    provider = FACTORIES[name](transport=_status(status, {"message": "busy"},
                                                 {"Retry-After": "7"}))
    with pytest.raises(TransientProviderError) as info:
        provider.send_batch(batch(2))
    assert info.value.retry_after == 7.0
    assert info.value.status_code == status


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 413, 422])
def test_client_errors_are_permanent_with_the_reason(name: str, status: int) -> None:
    body = {"message": "sender not verified", "ErrorCode": 300, "Message": "sender not verified",
            "errors": [{"message": "sender not verified", "field": "from"}],
            "code": "invalid_parameter", "ErrorMessage": "sender not verified"}
    provider = FACTORIES[name](transport=_status(status, body))
    with pytest.raises(PermanentProviderError) as info:
        provider.send_batch(batch(2))
    assert "sender not verified" in str(info.value)
    assert f"HTTP {status}" in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_a_subject_with_a_line_break_is_refused_before_any_request(name: str) -> None:
    calls = []
    provider = FACTORIES[name](transport=mock(lambda r: calls.append(r) or httpx.Response(500)))
    for subject in ("Digi-weetjes\r\nBcc: x@y.z", "Digi\nweetjes", "a\rb"):
        with pytest.raises(PermanentProviderError, match="line break"):
            provider.send_batch(Batch(content(subject=subject), [recipient(1)]))
    assert calls == []


@pytest.mark.parametrize("name", NAMES)
def test_a_recipient_that_cannot_be_a_header_fails_alone(name: str) -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return _ok_response(name, request, 1)

    provider = FACTORIES[name](transport=mock(handler))
    bad = recipient(1, email="evil@example.be\r\nBcc: all@example.be")
    results = provider.send_batch(Batch(content(), [recipient(0), bad]))
    assert [r.status for r in results] == ["sent", "failed"]
    assert results[1].reference == "del-1" and "line break" in (results[1].reason or "")
    assert b"all@example.be" not in seen[0]


def _ok_response(name: str, request: httpx.Request, n: int) -> httpx.Response:
    return {
        "brevo": lambda: httpx.Response(201, json={"messageIds": [f"<m{i}>" for i in range(n)]}),
        "postmark": lambda: httpx.Response(200, json=[{"ErrorCode": 0, "MessageID": f"m{i}"}
                                                      for i in range(n)]),
        "sendgrid": lambda: httpx.Response(202, headers={"X-Message-Id": "sg"}),
        "mailgun": lambda: httpx.Response(200, json={"id": "<mg>", "message": "Queued."}),
        "mailjet": lambda: httpx.Response(200, json={"Messages": [
            {"Status": "success", "To": [{"MessageID": i}]} for i in range(n)]}),
        "resend": lambda: httpx.Response(200, json={"data": [{"id": f"r{i}"}
                                                             for i in range(n)]}),
    }[name]()


@pytest.mark.parametrize("name", NAMES)
def test_batch_at_the_limit_goes_in_one_request_and_one_more_is_refused(name: str) -> None:
    requests: list[httpx.Request] = []
    limit = FACTORIES[name]().capabilities.max_batch

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return _ok_response(name, request, limit)

    provider = FACTORIES[name](transport=mock(handler))
    results = provider.send_batch(batch(limit))
    assert len(requests) == 1 and len(results) == limit
    assert all(r.status == "sent" for r in results)
    with pytest.raises(ValueError, match=f"at most {limit}"):
        provider.send_batch(batch(limit + 1))
    assert len(requests) == 1
    chunks = list(chunked(batch(limit + 1).recipients, provider.capabilities.max_batch))
    assert [len(c) for c in chunks] == [limit, 1]


@pytest.mark.parametrize("name", NAMES)
def test_secrets_never_show_in_errors_repr_or_logs(name: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    keys = f"{KEY} / {KEY2}" if name == "mailjet" else KEY

    def echo(request: httpx.Request) -> httpx.Response:
        # A provider that echoes the credential it got must not leak it through us.
        return httpx.Response(401, json={"message": f"key {keys} is not valid",
                                         "ErrorMessage": f"key {keys} invalid",
                                         "Message": f"token {keys} invalid",
                                         "errors": [{"message": f"bad key {keys}"}]})

    for transport in (mock(echo), _raising(httpx.ConnectError("connection refused"))):
        provider = FACTORIES[name](transport=transport)
        with pytest.raises((PermanentProviderError, TransientProviderError)) as info:
            provider.send_batch(batch(2))
        for text in (str(info.value), repr(info.value), repr(provider), str(provider),
                     caplog.text):
            assert KEY not in text and KEY2 not in text


@pytest.mark.parametrize("name, options, missing", [
    ("brevo", {}, "DIGIWEETJES_PROVIDER_API_KEY"),
    ("postmark", {}, "DIGIWEETJES_PROVIDER_SERVER_TOKEN"),
    ("sendgrid", {}, "DIGIWEETJES_PROVIDER_API_KEY"),
    ("mailgun", {"api_key": Secret("k")}, "DIGIWEETJES_PROVIDER_DOMAIN"),
    ("mailjet", {"api_key": Secret("k")}, "DIGIWEETJES_PROVIDER_SECRET_KEY"),
    ("resend", {}, "DIGIWEETJES_PROVIDER_API_KEY"),
])
def test_from_settings_names_the_missing_variable(name: str, options: dict,
                                                  missing: str) -> None:
    cls = {"brevo": BrevoProvider, "postmark": PostmarkProvider, "sendgrid": SendGridProvider,
           "mailgun": MailgunProvider, "mailjet": MailjetProvider, "resend": ResendProvider}[name]
    with pytest.raises(ConfigError, match=missing):
        cls.from_settings(Settings(provider=name, provider_options=options))


def test_from_settings_reads_the_environment_options() -> None:
    env = {"DIGIWEETJES_PROVIDER": "mailgun", "DIGIWEETJES_PROVIDER_API_KEY": KEY,
           "DIGIWEETJES_PROVIDER_DOMAIN": "mg.werkkracht10.be",
           "DIGIWEETJES_PROVIDER_REGION": "EU"}
    provider = MailgunProvider.from_settings(Settings.from_env(env))
    assert provider.base_url == "https://api.eu.mailgun.net"
    assert provider.domain == "mg.werkkracht10.be"
    postmark = PostmarkProvider.from_settings(Settings.from_env(
        {"DIGIWEETJES_PROVIDER_SERVER_TOKEN": KEY}))
    assert postmark.message_stream == "broadcast"
    brevo = BrevoProvider.from_settings(Settings.from_env(
        {"DIGIWEETJES_PROVIDER_API_KEY": KEY, "DIGIWEETJES_PROVIDER_BASE_URL": "http://x:1/"}))
    assert brevo.base_url == "http://x:1"
    assert KEY not in repr(brevo)


def test_retry_after_reads_each_providers_hint() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds(httpx.Headers({"Retry-After": "12"}), now) == 12
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 30))
    assert retry_after_seconds(httpx.Headers({"Retry-After": date}), now) == pytest.approx(30)
    assert retry_after_seconds(httpx.Headers({"x-sib-ratelimit-reset": "5"}), now) == 5
    assert retry_after_seconds(httpx.Headers({"X-RateLimit-Reset": str(int(now) + 40)}),
                               now) == 40
    assert retry_after_seconds(httpx.Headers({"ratelimit-reset": "2"}), now) == 2
    assert retry_after_seconds(httpx.Headers({"X-RateLimit-Reset": "1"}), now + 10) == 1
    assert retry_after_seconds(httpx.Headers({}), now) is None
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"}), now) is None


def test_rate_limit_state_is_kept_from_the_last_response() -> None:
    state = rate_limit_state(httpx.Headers({"x-sib-ratelimit-limit": "1000",
                                            "x-sib-ratelimit-remaining": "3",
                                            "x-sib-ratelimit-reset": "9"}), 100.0)
    assert state is not None
    assert (state.limit, state.remaining, state.reset_after) == (1000, 3, 9.0)
    assert rate_limit_state(httpx.Headers({"content-type": "x"}), 1.0) is None

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"messageIds": ["<a>"]},
                              headers={"x-sib-ratelimit-remaining": "41"})

    provider = BrevoProvider(Secret(KEY), transport=mock(handler))
    assert provider.rate_limit is None
    provider.send_batch(batch(1))
    assert provider.rate_limit is not None and provider.rate_limit.remaining == 41


def test_tag_values_are_restricted_and_reversible() -> None:
    for value in ("digiweetjes-2026-12", "del_1:ä/ x", "", "a_5fb"):
        encoded = safe_tag_value(value)
        assert all(c.isascii() and (c.isalnum() or c in "_-") for c in encoded)
        assert decode_tag_value(encoded) == value
    with pytest.raises(PermanentProviderError):
        safe_tag_value("x" * 300)


def test_addresses_quote_names_that_need_it() -> None:
    assert format_address("a@b.be", None) == "a@b.be"
    assert format_address("a@b.be", "Jan Peeters") == "Jan Peeters <a@b.be>"
    assert format_address("a@b.be", 'Peeters, "Jan"') == '"Peeters, \\"Jan\\"" <a@b.be>'


def test_multipart_repeats_fields_in_order() -> None:
    body, content_type = encode_multipart([("to", "a@b.be"), ("to", "c@d.be"), ("x", "é")])
    boundary = content_type.split("boundary=")[1]
    assert body.count(f"--{boundary}\r\n".encode()) == 3
    assert body.endswith(f"--{boundary}--\r\n".encode())
    assert b'name="to"' in body and "é".encode() in body
    with pytest.raises(ValueError):
        list(chunked([1, 2], 0))


@pytest.mark.parametrize("name", NAMES)
def test_the_registry_builds_each_adapter_from_settings(name: str) -> None:
    from digiweetjes.providers.registry import get_provider

    options = {"api_key": Secret(KEY), "server_token": Secret(KEY), "secret_key": Secret(KEY2),
               "domain": "mg.werkkracht10.be"}
    provider = get_provider(Settings(provider=name, provider_options=options), SystemClock(),
                            transport=mock(lambda r: httpx.Response(500)))
    assert provider.name == name
    with pytest.raises(TransientProviderError):
        provider.send_batch(batch(1))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("tricky", [False, True])
def test_templates_are_parsed_and_rendered_once_per_content_not_per_batch(
        name: str, tricky: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return _ok_response(name, request, 2)

    provider = FACTORIES[name](transport=mock(handler))
    first = batch(2, tricky=tricky)
    renders: list[str] = []
    original = FillableTemplate.render_markers

    def counting(self: FillableTemplate, marker: Callable[[str], str]) -> str:
        renders.append(name)
        return original(self, marker)

    def no_parse(text: str) -> FillableTemplate:
        raise AssertionError("an adapter parsed a template")

    monkeypatch.setattr(FillableTemplate, "render_markers", counting)
    for module in (brevo, mailgun):  # these two render from the parts themselves
        monkeypatch.setattr(module, "render_body", _counted(module.render_body, renders))
    monkeypatch.setattr(FillableTemplate, "parse", no_parse)
    provider.send_batch(first)
    rendered_first = len(renders)
    provider.send_batch(Batch(first.content, first.recipients, first.idempotency_key))
    assert len(renders) == rendered_first
    assert bodies[0] == bodies[1] or name == "mailgun"  # mailgun: a fresh multipart boundary


def _counted(function: Callable[..., str], calls: list[str]) -> Callable[..., str]:
    def wrapper(*args: object) -> str:
        calls.append(function.__name__)
        return function(*args)
    return wrapper


def test_the_error_body_is_read_once_and_each_adapter_picks_its_field() -> None:
    payloads: list[object] = []

    class Picky(PostmarkProvider):
        def _error_message(self, payload: object) -> str | None:
            payloads.append(payload)
            return "picked" if isinstance(payload, dict) else None

    provider = Picky(Secret(KEY), transport=_status(400, {"ErrorCode": 300}))
    with pytest.raises(PermanentProviderError, match=r"HTTP 400: picked$") as info:
        provider.send_batch(batch(1))
    assert payloads == [{"ErrorCode": 300}] and info.value.status_code == 400

    text = Picky(Secret(KEY), transport=mock(lambda r: httpx.Response(400, text=" nope \n")))
    with pytest.raises(PermanentProviderError, match=r"HTTP 400: nope$"):
        text.send_batch(batch(1))
    assert payloads[-1] == "nope"
