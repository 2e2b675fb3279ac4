"""Looking up what a provider accepted, by our reference: exact request shapes (MockTransport)
and the same searches against the fake provider on loopback."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from digiweetjes.config import Secret
from digiweetjes.devtools.fake_provider import FakeProviderServer
from digiweetjes.errors import PermanentProviderError, TransientProviderError
from digiweetjes.providers.lookup import Lookup, Query, cannot_look_up, look_up
from digiweetjes.providers.mailgun import MailgunProvider
from digiweetjes.providers.mailjet import MailjetProvider
from digiweetjes.providers.postmark import PostmarkProvider
from digiweetjes.providers.sendgrid import SendGridProvider
from tests.providers_support import FACTORIES, KEY, batch, mock

REF = "0123456789abcdef0123456789abcde"
QUERY = Query(REF, "lid1@example.be")


def _recording(answer: httpx.Response) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    return seen, mock(handler)


def _params(request: httpx.Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def test_postmark_searches_outbound_messages_by_metadata() -> None:
    seen, transport = _recording(httpx.Response(200, json={"TotalCount": 1, "Messages": [
        {"MessageID": "pm-1", "Metadata": {"ref": REF, "issue": "x"},
         "Recipients": ["lid1@example.be"], "Status": "Sent"}]}))
    provider = PostmarkProvider(Secret(KEY), transport=transport)
    assert look_up(provider, QUERY) == Lookup(REF, "accepted", message_id="pm-1")
    [request] = seen
    assert request.method == "GET"
    assert urlsplit(str(request.url)).path == "/messages/outbound"
    assert request.headers["X-Postmark-Server-Token"] == KEY
    assert _params(request) == {"count": "50", "offset": "0", "metadata_ref": REF,
                                "messagestream": "broadcast"}


def test_postmark_ignores_a_message_of_another_reference() -> None:
    _seen, transport = _recording(httpx.Response(200, json={"TotalCount": 1, "Messages": [
        {"MessageID": "pm-1", "Metadata": {"ref": "other"}}]}))
    provider = PostmarkProvider(Secret(KEY), transport=transport)
    assert look_up(provider, QUERY).outcome == "not_found"


def test_mailgun_reads_the_recipients_accepted_events_and_matches_the_variable() -> None:
    pages = [
        {"items": [{"event": "accepted", "user-variables": {"digiweetjes-ref": "other"},
                    "message": {"headers": {"message-id": "a@mg"}}}],
         "paging": {"next": "https://api.mailgun.net/v3/mg.example.be/events/PAGE2"}},
        {"items": [{"event": "accepted", "user-variables": {"digiweetjes-ref": REF},
                    "message": {"headers": {"message-id": "b@mg"}}}],
         "paging": {"next": "https://api.mailgun.net/v3/mg.example.be/events/PAGE3"}},
    ]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[len(seen) - 1])

    provider = MailgunProvider(Secret(KEY), "mg.example.be", transport=mock(handler))
    assert look_up(provider, QUERY) == Lookup(REF, "accepted", message_id="<b@mg>")
    assert urlsplit(str(seen[0].url)).path == "/v3/mg.example.be/events"
    assert _params(seen[0]) == {"event": "accepted", "recipient": "lid1@example.be",
                                "limit": "300"}
    assert str(seen[1].url) == "https://api.mailgun.net/v3/mg.example.be/events/PAGE2"
    assert seen[0].headers["Authorization"].startswith("Basic ")


def test_mailgun_stops_at_an_empty_page() -> None:
    _seen, transport = _recording(httpx.Response(200, json={
        "items": [], "paging": {"next": "https://api.mailgun.net/v3/mg.example.be/events/N"}}))
    provider = MailgunProvider(Secret(KEY), "mg.example.be", transport=transport)
    assert look_up(provider, QUERY).outcome == "not_found"
    assert look_up(provider, Query(REF, None)).outcome == "unknown"


def test_mailjet_filters_messages_by_custom_id() -> None:
    seen, transport = _recording(httpx.Response(200, json={
        "Count": 1, "Data": [{"ID": 288230376151711745, "CustomID": REF, "Status": "sent"}],
        "Total": 1}))
    provider = MailjetProvider(Secret("pub"), Secret(KEY), transport=transport)
    assert look_up(provider, QUERY) == Lookup(REF, "accepted", message_id="288230376151711745")
    [request] = seen
    assert urlsplit(str(request.url)).path == "/v3/REST/message"
    assert _params(request) == {"CustomID": REF, "Limit": "10"}


def test_sendgrid_queries_email_activity_by_recipient_and_custom_argument() -> None:
    seen, transport = _recording(httpx.Response(200, json={"messages": [
        {"msg_id": "abc.filter-1.0", "to_email": "lid1@example.be", "status": "delivered"}]}))
    provider = SendGridProvider(Secret(KEY), transport=transport)
    assert look_up(provider, QUERY) == Lookup(REF, "accepted", message_id="abc.filter-1.0")
    [request] = seen
    assert urlsplit(str(request.url)).path == "/v3/messages"
    assert _params(request) == {
        "limit": "10", "query": f"to_email=\"lid1@example.be\" AND unique_args['ref']=\"{REF}\""}
    assert request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("status", [403, 404])
def test_sendgrid_without_the_email_activity_add_on_is_unknown(status: int) -> None:
    _seen, transport = _recording(httpx.Response(status, json={"errors": [
        {"message": "access forbidden"}]}))
    provider = SendGridProvider(Secret(KEY), transport=transport)
    found = look_up(provider, QUERY)
    assert found.outcome == "unknown" and "Email Activity" in (found.reason or "")
    assert KEY not in (found.reason or "")


def test_a_refused_account_and_a_server_error_are_raised() -> None:
    _seen, transport = _recording(httpx.Response(401, json={"ErrorCode": 10,
                                                            "Message": "bad token"}))
    with pytest.raises(PermanentProviderError):
        look_up(PostmarkProvider(Secret(KEY), transport=transport), QUERY)
    _seen, transport = _recording(httpx.Response(503, text="busy"))
    with pytest.raises(TransientProviderError):
        look_up(MailjetProvider(Secret("pub"), Secret(KEY), transport=transport), QUERY)


@pytest.mark.parametrize("name", ["brevo", "resend"])
def test_keyed_providers_cannot_be_asked_and_say_why(name: str) -> None:
    provider = FACTORIES[name](base_url="https://example.invalid")
    reason = cannot_look_up(provider)
    assert reason and "--include-uncertain" in reason and "idempotentiesleutel" in reason
    assert look_up(provider, QUERY) == Lookup(REF, "unknown", reason=reason)


@pytest.mark.parametrize("name", ["postmark", "mailgun", "mailjet", "sendgrid"])
def test_against_the_fake_what_was_sent_is_found_with_its_message_id(name: str) -> None:
    with FakeProviderServer() as fake:
        provider = FACTORIES[name](base_url=fake.url)
        b = batch(4)
        results = provider.send_batch(b)
        for recipient, result in zip(b.recipients, results, strict=True):
            found = look_up(provider, Query(recipient.reference, recipient.email))
            assert found.outcome == "accepted", found
            if name == "sendgrid":  # Email Activity names each message under the request's id
                assert (found.message_id or "").startswith(f"{result.message_id}.")
            else:
                assert found.message_id == result.message_id
        assert look_up(provider, Query("never-sent", "lid1@example.be")).outcome == "not_found"
        # Mailgun and SendGrid search per address: a reference under another address is
        # not found there; Postmark and Mailjet search by the reference alone.
        other = look_up(provider, Query(b.recipients[0].reference, "someone@example.be"))
        by_address = name in ("mailgun", "sendgrid")
        assert other.outcome == ("not_found" if by_address else "accepted")
        provider.close()


def test_the_fake_applies_faults_and_credentials_to_searches() -> None:
    with FakeProviderServer() as fake:
        provider = FACTORIES["postmark"](base_url=fake.url)
        fake.state.set_faults({"script": ["5xx"]})
        with pytest.raises(TransientProviderError):
            look_up(provider, QUERY)
        assert look_up(provider, QUERY).outcome == "not_found"
        fake.state.set_faults({"accepted_keys": ["another-key"]})
        with pytest.raises(PermanentProviderError):
            look_up(provider, QUERY)
        provider.close()


def test_the_fake_answers_postmark_without_count_as_postmark_does() -> None:
    with FakeProviderServer() as fake:
        response = httpx.get(fake.url + "/messages/outbound",
                             headers={"X-Postmark-Server-Token": "k"})
        assert response.status_code == 422
        assert json.loads(response.content)["ErrorCode"] == 1
