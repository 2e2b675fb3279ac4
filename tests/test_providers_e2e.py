"""End to end over real loopback sockets: each adapter against the fake provider server."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace

import httpx
import pytest

from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.errors import (
    PermanentProviderError,
    TransientProviderError,
    UncertainOutcomeError,
)
from tests.providers_support import FACTORIES, KEY, batch

NAMES = sorted(FACTORIES)
PER_MESSAGE = {"postmark", "mailjet"}
IDEMPOTENT = {"brevo", "resend"}
QUICK = httpx.Timeout(connect=2.0, read=0.5, write=2.0, pool=2.0)


@pytest.fixture
def fake():
    with FakeProviderServer(faults=Faults(keep_bodies=True, hang_s=3.0)) as server:
        yield server


@pytest.mark.parametrize("name", NAMES)
def test_recipients_read_exactly_the_client_side_fill(fake: FakeProviderServer,
                                                      name: str) -> None:
    provider = FACTORIES[name](base_url=fake.url)
    b = batch(7, tricky=True)
    results = provider.send_batch(b)
    assert [r.status for r in results] == ["sent"] * 7
    html = b.content.html
    text = b.content.text
    for r in b.recipients:
        [message] = fake.state.recent(name, r.email, 10)
        assert message["html"] == html.fill(r.html_values)
        assert message["text"] == text.fill(r.text_values)
        assert message["subject"] == b.content.subject
        assert message["reference"] == r.reference
        assert message["headers"]["List-Unsubscribe"] == (
            f"<{r.unsubscribe_url}>, <mailto:uitschrijven@werkkracht10.be?subject=uitschrijven>")
        assert message["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["tag"]
    assert fake.state.deliveries()["total"] == 7
    provider.close()


@pytest.mark.parametrize("name", NAMES)
def test_a_full_batch_is_accepted_and_one_more_is_refused_by_the_fake(
        fake: FakeProviderServer, name: str) -> None:
    provider = FACTORIES[name](base_url=fake.url)
    fake.state.set_faults({"keep_bodies": False})
    limit = provider.capabilities.max_batch
    results = provider.send_batch(batch(limit))
    assert len(results) == limit and {r.status for r in results} == {"sent"}
    # Bypass the adapter's own check to see the fake refuse an oversize request.
    provider.capabilities = replace(  # type: ignore[misc]
        provider.capabilities, max_batch=limit + 1)
    with pytest.raises(PermanentProviderError):
        provider.send_batch(batch(limit + 1))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["5xx", "429"])
def test_5xx_and_429_are_transient_and_nothing_is_recorded(fake: FakeProviderServer,
                                                           name: str, kind: str) -> None:
    fake.state.set_faults({"script": [kind], "retry_after_s": 4})
    provider = FACTORIES[name](base_url=fake.url)
    with pytest.raises(TransientProviderError) as info:
        provider.send_batch(batch(2))
    if kind == "429" and name in ("brevo", "sendgrid", "resend"):
        assert info.value.retry_after is not None and 2 <= info.value.retry_after <= 4
    assert fake.state.deliveries()["total"] == 0
    assert [r.status for r in provider.send_batch(batch(2))] == ["sent", "sent"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind, recorded", [("drop_after", 2), ("timeout_after", 2),
                                            ("drop_before", 0), ("timeout_before", 0)])
def test_lost_answers_are_uncertain(fake: FakeProviderServer, name: str, kind: str,
                                    recorded: int) -> None:
    fake.state.set_faults({"script": [kind]})
    provider = FACTORIES[name](base_url=fake.url, timeout=QUICK)
    with pytest.raises(UncertainOutcomeError):
        provider.send_batch(batch(2))
    assert fake.state.deliveries()["total"] == recorded


@pytest.mark.parametrize("name", NAMES)
def test_connection_refused_is_transient(name: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = FACTORIES[name](base_url=f"http://127.0.0.1:{port}", timeout=QUICK)
    with pytest.raises(TransientProviderError):
        provider.send_batch(batch(1))


@pytest.mark.parametrize("name", NAMES)
def test_rejected_recipients(fake: FakeProviderServer, name: str) -> None:
    fake.state.set_faults({"reject_pattern": r"^lid1@"})
    provider = FACTORIES[name](base_url=fake.url)
    if name in PER_MESSAGE:
        results = provider.send_batch(batch(3))
        assert [r.status for r in results] == ["sent", "failed", "sent"]
        assert "lid1@example.be" in (results[1].reason or "")
        assert fake.state.deliveries()["total"] == 2
    else:
        with pytest.raises(PermanentProviderError, match=r"lid1@example\.be"):
            provider.send_batch(batch(3))
        assert fake.state.deliveries()["total"] == 0


@pytest.mark.parametrize("name", sorted(IDEMPOTENT))
@pytest.mark.parametrize("kind", ["drop_after", "timeout_after"])
def test_idempotent_retry_after_an_uncertain_outcome_sends_once(
        fake: FakeProviderServer, name: str, kind: str) -> None:
    fake.state.set_faults({"script": [kind]})
    provider = FACTORIES[name](base_url=fake.url, timeout=QUICK)
    b = batch(5, key="issue-2026-12/batch-0001")
    with pytest.raises(UncertainOutcomeError):
        provider.send_batch(b)
    results = provider.send_batch(b)
    assert [r.status for r in results] == ["sent"] * 5
    summary = fake.state.deliveries()
    assert summary["total"] == 5 and summary["duplicate_count"] == 0
    assert summary["replays"] == 1
    # A new key is a new send: duplicates become visible.
    provider.send_batch(batch(5, key="another"))
    assert fake.state.deliveries()["duplicate_count"] == 5


@pytest.mark.parametrize("name", sorted(set(NAMES) - IDEMPOTENT))
def test_without_idempotency_a_retry_duplicates(fake: FakeProviderServer, name: str) -> None:
    fake.state.set_faults({"script": ["drop_after"]})
    provider = FACTORIES[name](base_url=fake.url)
    b = batch(2, key="ignored")
    with pytest.raises(UncertainOutcomeError):
        provider.send_batch(b)
    provider.send_batch(b)
    assert fake.state.deliveries()["duplicate_count"] == 2


@pytest.mark.parametrize("name", NAMES)
def test_wrong_credentials_are_permanent_and_never_leak(
        fake: FakeProviderServer, name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.state.set_faults({"accepted_keys": ["the-real-key"]})
    provider = FACTORIES[name](base_url=fake.url)
    with pytest.raises(PermanentProviderError, match="HTTP 401") as info:
        provider.send_batch(batch(1))
    assert KEY not in str(info.value) and KEY not in repr(provider) and KEY not in caplog.text


@pytest.mark.parametrize("name", ["brevo", "resend"])
def test_rate_limit_state_is_visible_after_a_send(fake: FakeProviderServer, name: str) -> None:
    provider = FACTORIES[name](base_url=fake.url)
    provider.send_batch(batch(1))
    assert provider.rate_limit is not None and provider.rate_limit.remaining is not None
