"""Documented byte limits: the fake refuses what is over them, the adapters never send it, and
the engine keeps every request of a 1,000+-recipient send inside them (real loopback server)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import insert

from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer
from digiweetjes.devtools.fake_provider.apis import APIS
from digiweetjes.errors import BatchTooLargeError, TransientProviderError
from digiweetjes.models import Subscriber
from digiweetjes.providers.base import Batch, Recipient
from digiweetjes.providers.brevo import shared_placeholders
from digiweetjes.providers.http import HttpProvider, encode_json
from digiweetjes.sending.backoff import Backoff
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from digiweetjes.subscribers.hashing import Hasher
from tests.providers_support import FACTORIES, KEY, content, recipient
from tests.sending_support import ScriptedProvider, add_subscriber, freeze, sample_issue

N = 1_100
#: A name HTML must escape all through: the real params weigh far more than the engine's
#: estimate (plain names), so a Brevo batch planned by it would exceed Brevo's 1000 KB.
HEAVY_NAME = ('"&<' * 70)[:200]
FAKE = {api.provider: api for api in APIS}
QUICK = httpx.Timeout(connect=2.0, read=30.0, write=30.0, pool=30.0)


@pytest.fixture
def fake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def sqlite_db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    database.upgrade()
    yield database
    database.dispose()


def _subscribers(db: Database, settings, count: int, now) -> None:
    hasher = Hasher(settings)
    regions = [("Brugge", "centrum"), ("Knokke-Heist", "noord"), (None, None)]
    rows = []
    for i in range(count):
        email = f"lid{i:05d}@example.be"
        municipality, subregion = regions[i % 3]
        rows.append(dict(
            email=email, email_key=email, email_hash=hasher.email(email),
            name=HEAVY_NAME if i % 10 else f"Lid {i}", municipality=municipality,
            subregion=subregion, topics=[], language="nl-BE", status="active", source="admin",
            created_at=now, updated_at=now))
    with db.session() as session:
        session.execute(insert(Subscriber), rows)


def _big(i: int, size: int, **changes: object) -> Recipient:
    """Recipient ``i`` whose municipality block is ``size`` characters."""
    r = recipient(i)
    block = "x" * size
    return replace(r, html_values={**r.html_values, "municipality_block": block},
                   text_values={**r.text_values, "municipality_block": block}, **changes)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_a_large_send_stays_inside_every_documented_limit(sqlite_db, settings, fake,
                                                          name) -> None:
    settings = settings.with_(provider_options={"api_key": Secret(KEY)})
    clock = SystemClock()
    _subscribers(sqlite_db, settings, N, clock.now())
    compiled = sample_issue(settings)
    provider = FACTORIES[name](base_url=fake.url, timeout=QUICK)
    campaign = freeze(sqlite_db, compiled, provider.name, clock.now())
    engine = SendEngine(sqlite_db, provider, compiled, settings, clock,
                        SendOptions(concurrency=2))
    planned = engine.batch_size
    summary = engine.run(campaign)
    provider.close()

    assert summary.done and summary.counts["sent"] == N
    recorded = fake.state.deliveries()
    assert (recorded["total"], recorded["distinct"], recorded["duplicate_count"]) == (N, N, 0)
    assert recorded["size_refusals"] == {} and recorded["rejected"] == 0
    assert recorded["requests"][name] == summary.requests
    largest, api = recorded["largest"][name], FAKE[name]
    assert largest["request"] <= (api.max_request_bytes or 10**12)
    if name == "brevo":
        # The fake saw params of up to 1000 KB a call, never more, in batches the engine had
        # to make smaller than it planned: the names weigh more than its estimate.
        assert 800_000 < largest["params_total"] <= api.params_total
        assert engine.batch_size < planned < 1000
        assert summary.requests > N / planned
    if name == "sendgrid":
        assert largest["personalization_data"] <= api.personalization_data


def test_the_fake_refuses_brevo_params_over_1000_kb_and_100_kb_a_version(fake) -> None:
    provider = FACTORIES["brevo"]()
    client = httpx.Client(base_url=fake.url, headers={"api-key": KEY})
    heavy = [_big(i, 1_200) for i in range(1000)]
    body = provider.build_body(content(), heavy, None)
    assert sum(len(encode_json(v["params"])) for v in body["messageVersions"]) > 1_000_000
    answer = client.post("/v3/smtp/email", content=encode_json(body),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_parameter" and "1000 KB" in answer.json()["message"]
    one = provider.build_body(content(), [_big(0, 101_000)], None)
    answer = client.post("/v3/smtp/email", content=encode_json(one),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "100 KB" in answer.json()["message"]
    # Just inside: accepted.
    fits = provider.build_body(content(), heavy[:700], None)
    assert client.post("/v3/smtp/email", content=encode_json(fits),
                       headers={"Content-Type": "application/json"}).status_code == 201
    recorded = fake.state.deliveries()
    assert recorded["size_refusals"] == {"brevo": 2} and recorded["total"] == 700
    assert recorded["largest"]["brevo"]["params_version"] > 100_000
    client.close()


@pytest.mark.parametrize(("name", "path", "status", "words"), [
    ("sendgrid", "/v3/mail/send", 413, "over the limit"),
    ("mailgun", "/v3/mg.werkkracht10.be/messages", 413, "over the limit"),
    ("postmark", "/email/batch", 413, "over the limit"),
])
def test_the_fake_refuses_request_bodies_over_the_limit_with_413(fake, name, path, status,
                                                                 words) -> None:
    api = FAKE[name]
    provider = FACTORIES[name]()
    auth = {"sendgrid": {"Authorization": f"Bearer {KEY}"},
            "mailgun": {"Authorization": httpx.BasicAuth("api", KEY)._auth_header},
            "postmark": {"X-Postmark-Server-Token": KEY}}[name]
    body = b"{" + b" " * (api.max_request_bytes + 1) + b"}"
    answer = httpx.post(fake.url + path, content=body, timeout=30,
                        headers={**auth, "Content-Type": "application/json"})
    assert answer.status_code == status and words in answer.text
    assert provider.capabilities.byte_limits.request <= api.max_request_bytes
    assert fake.state.deliveries()["size_refusals"] == {name: 1}


def test_the_fake_refuses_oversized_messages_per_message_or_whole(fake) -> None:
    postmark = FACTORIES["postmark"]()
    messages = postmark.build_body(content(), [_big(0, 10_100_000), recipient(1)])
    answer = httpx.post(fake.url + "/email/batch", content=encode_json(messages), timeout=30,
                        headers={"X-Postmark-Server-Token": KEY,
                                 "Content-Type": "application/json"})
    assert answer.status_code == 200
    assert [m["ErrorCode"] for m in answer.json()] == [300, 0]
    mailjet = FACTORIES["mailjet"]()
    body = mailjet.build_body(content(), [_big(0, 15_100_000), recipient(1)])
    answer = httpx.post(fake.url + "/v3.1/send", content=encode_json(body), timeout=30,
                        auth=(KEY, KEY), headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert [m["Status"] for m in answer.json()["Messages"]] == ["error", "success"]
    resend = FACTORIES["resend"]()
    emails = resend.build_body(content(), [_big(0, 40_100_000), recipient(1)])
    answer = httpx.post(fake.url + "/emails/batch", content=encode_json(emails), timeout=30,
                        headers={"Authorization": f"Bearer {KEY}",
                                 "Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["name"] == "validation_error"
    recorded = fake.state.deliveries()
    assert recorded["by_provider"] == {"postmark": 1, "mailjet": 1}
    assert recorded["size_refusals"] == {"resend": 1}


def test_brevo_refuses_a_batch_over_1000_kb_itself_and_says_how_many_fit(fake) -> None:
    provider = FACTORIES["brevo"](base_url=fake.url, timeout=QUICK)
    heavy = [_big(i, 1_200) for i in range(1000)]
    with pytest.raises(BatchTooLargeError) as caught:
        provider.send_batch(Batch(content(), heavy, "key-1"))
    assert 600 < caught.value.fits < 1000
    assert fake.state.deliveries()["requests"] == {}
    results = provider.send_batch(Batch(content(), heavy[:caught.value.fits], "key-2"))
    assert {r.status for r in results} == {"sent"}
    assert fake.state.deliveries()["size_refusals"] == {}
    provider.close()


@pytest.mark.parametrize(("name", "size"), [
    ("brevo", 101_000), ("sendgrid", 10_100), ("postmark", 10_100_000),
    ("mailjet", 15_100_000), ("resend", 40_100_000),
])
def test_a_recipient_over_a_limit_fails_alone_and_never_leaves(fake, name, size) -> None:
    provider: HttpProvider = FACTORIES[name](base_url=fake.url, timeout=QUICK)
    recipients = [recipient(0), _big(1, size), recipient(2)]
    results = provider.send_batch(Batch(content(), recipients, "key-1"))
    assert [r.status for r in results] == ["sent", "failed", "sent"]
    assert "documented limit" in (results[1].reason or "")
    recorded = fake.state.deliveries()
    assert recorded["size_refusals"] == {} and recorded["total"] == 2
    assert recorded["requests"] == {name: 1}
    provider.close()


def test_mailguns_one_message_is_its_request_so_an_oversized_recipient_goes_alone(
        fake) -> None:
    provider: HttpProvider = FACTORIES["mailgun"](base_url=fake.url, timeout=QUICK)
    big = _big(1, 25_100_000)
    with pytest.raises(BatchTooLargeError) as caught:
        provider.send_batch(Batch(content(), [recipient(0), big, recipient(2)], "key-1"))
    assert caught.value.fits == 1
    [result] = provider.send_batch(Batch(content(), [big], "key-2"))
    assert result.status == "failed" and "documented limit" in (result.reason or "")
    assert fake.state.deliveries()["requests"] == {}
    provider.close()


def test_brevo_sends_each_value_once_and_renders_exactly_as_before(fake) -> None:
    recipients = [recipient(i) for i in range(3)]
    assert shared_placeholders(recipients) == {"unsubscribe_url"}
    provider = FACTORIES["brevo"]()
    body = provider.build_body(content(), recipients, None)
    params = body["messageVersions"][1]["params"]
    assert params["v_unsubscribe_url"] == recipients[1].unsubscribe_url
    assert not {"h_unsubscribe_url", "t_unsubscribe_url"} & set(params)
    assert "{{ params.v_unsubscribe_url }}" in body["htmlContent"]
    assert "{{ params.v_unsubscribe_url }}" in body["textContent"]
    # One recipient whose values differ: the batch sends that placeholder per part again.
    odd = replace(recipients[2], html_values={**recipients[2].html_values,
                                              "unsubscribe_url": "https://x.be/u?a=1&amp;b"})
    assert shared_placeholders([*recipients[:2], odd]) == frozenset()


def _scripted_send(db, settings, clock, provider: ScriptedProvider, n: int):
    for i in range(n):
        add_subscriber(db, settings, f"lid{i:03d}@example.be", now=clock.now())
    campaign = freeze(db, sample_issue(settings), provider.name, clock.now())

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    engine = SendEngine(db, provider, sample_issue(settings), settings, clock,
                        SendOptions(concurrency=1, backoff=Backoff(base=1.0, cap=5.0)),
                        sleep=sleep, monotonic=lambda: clock.now().timestamp(),
                        rng=random.Random(1))
    return engine, engine.run(campaign)


def test_a_batch_refused_for_size_is_sent_again_in_smaller_batches(db, settings,
                                                                   clock) -> None:
    provider = ScriptedProvider(max_batch=10, script=[
        BatchTooLargeError("scripted: 10 recipients are over the limit", fits=4)])
    engine, summary = _scripted_send(db, settings, clock, provider, 15)
    assert [len(b.recipients) for b in provider.batches] == [10, 4, 4, 4, 3]
    assert summary.done and summary.counts["sent"] == 15 and summary.counts["failed"] == 0
    assert set(provider.delivered.values()) == {1} and len(provider.delivered) == 15
    assert summary.requests == 4 and engine.batch_size == 4
    # Fresh keys: the refused batch's key never left, and is not reused for other rows.
    keys = [b.idempotency_key for b in provider.batches]
    assert len(set(keys)) == 5


def test_a_retry_batch_refused_for_size_becomes_uncertain_not_split(db, settings,
                                                                    clock) -> None:
    provider = ScriptedProvider(max_batch=5, idempotency_window=timedelta(minutes=30),
                                script=[
                                    TransientProviderError("scripted 503"),
                                    BatchTooLargeError("scripted: over the limit", fits=2)])
    _engine, summary = _scripted_send(db, settings, clock, provider, 5)
    first, retry = provider.batches[:2]
    assert retry.idempotency_key == first.idempotency_key
    assert summary.counts["uncertain"] == 5 and summary.counts["queued"] == 0
    assert len(provider.batches) == 2 and provider.delivered == {}
