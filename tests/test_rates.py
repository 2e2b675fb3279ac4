"""Request rates: each adapter's default, the adaptive pace, one budget for the whole send."""

from __future__ import annotations

import itertools
import random

import httpx
import pytest
from sqlalchemy import select

from digiweetjes.clock import SystemClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.devtools.fake_provider.rate_window import most_in_one_second
from digiweetjes.devtools.synthetic import insert_subscribers
from digiweetjes.errors import ConfigError, TransientProviderError
from digiweetjes.models import SendRate
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.sending.backoff import Backoff
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.pace import FLOOR, HEADROOM, Pace
from digiweetjes.sending.pacing import Pacer, request_ceiling
from digiweetjes.sending.rate_budget import LocalBudget, SharedBudget
from digiweetjes.sending.ratelimit import RateLimiter
from tests.providers_support import FACTORIES
from tests.sending_support import ScriptedProvider, add_subscriber, freeze, rows, sample_issue

QUICK = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=5.0)
SPACING = 1 / HEADROOM  # seconds between requests at one request a second


# -- the arithmetic ---------------------------------------------------------------------------


def test_requests_are_spaced_and_a_slot_is_only_taken_within_the_horizon() -> None:
    pace = Pace.start(2.0)
    first, second = pace.take(100.0, 0.25), pace.take(100.0, 0.25)
    assert (first.at, first.granted) == (100.0, True)
    assert second.at == pytest.approx(100.0 + SPACING / 2) and not second.granted
    later = pace.take(100.4, 0.25)
    assert later.granted and later.at == pytest.approx(100.0 + SPACING / 2)


def test_a_429_halves_the_rate_once_per_cut_and_holds_everyone_until_the_retry_time() -> None:
    pace = Pace.start(4.0)
    pace.rate_limited(now=10.0, sent_at=9.9, retry_after=3.0)
    assert pace.rate == 2.0 and pace.blocked_until == 13.0
    # Sent before the cut, at the old pace: no second cut.
    pace.rate_limited(now=10.1, sent_at=9.95, retry_after=None)
    assert pace.rate == 2.0
    assert pace.take(10.2, 0.25) == pace.take(10.2, 0.25)  # not granted: nothing consumed
    assert pace.take(12.9, 0.25).at == 13.0
    for second in range(20):
        pace.rate_limited(now=20.0 + second, sent_at=20.0 + second, retry_after=None)
    assert pace.rate == pytest.approx(4.0 * FLOOR)  # a floor: a storm still probes now and then


def test_accepted_requests_creep_back_up_to_the_ceiling_and_no_further() -> None:
    pace = Pace.start(2.0)
    pace.rate_limited(now=0.0, sent_at=0.0, retry_after=0.0)
    assert pace.rate == 1.0
    steps = 0
    while pace.accepted():
        steps += 1
    assert pace.rate == 2.0 and steps == 10  # additive: a twentieth of the ceiling each


def test_without_a_rate_only_the_retry_time_holds_requests_back() -> None:
    pace = Pace.start(None)
    assert all(pace.take(5.0, 0.0).granted for _ in range(100))
    pace.rate_limited(now=5.0, sent_at=5.0, retry_after=2.5)
    assert not pace.take(5.0, 0.25).granted and pace.take(7.5, 0.0).granted
    assert not pace.accepted()


def test_the_pacer_sleeps_out_the_spacing_and_the_retry_time() -> None:
    now = [1000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(LocalBudget(2.0), RateLimiter(), wall=lambda: now[0], sleep=sleep)
    slots = [pacer.wait_turn(1) for _ in range(5)]
    assert slots == pytest.approx([1000.0 + i * SPACING / 2 for i in range(5)])
    pacer.rate_limited(slots[-1], retry_after=30.0)
    assert pacer.wait_turn(1) == pytest.approx(now[0]) and now[0] >= slots[-1] + 30.0


# -- which rate applies ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_each_adapter_declares_its_default_and_the_setting_overrides_it(name) -> None:
    capabilities = FACTORIES[name]().capabilities
    expected = {"resend": 2.0, "brevo": 6000 / 3600}.get(name, 10.0)
    assert request_ceiling(SendOptions(), capabilities) == pytest.approx(expected)
    assert request_ceiling(SendOptions(requests_per_second=0.5), capabilities) == 0.5
    assert request_ceiling(SendOptions(requests_per_second=0), capabilities) is None
    assert request_ceiling(SendOptions(), OutboxProvider.capabilities) is None


def test_the_rate_setting_may_be_zero_for_no_limit_and_nothing_else_may() -> None:
    send = Settings.from_env({"DIGIWEETJES_SEND_REQUESTS_PER_SECOND": "0",
                              "DIGIWEETJES_SEND_RATE_LIMITED_SECONDS": "600"}).send
    assert (send.requests_per_second, send.rate_limited_seconds) == (0.0, 600.0)
    with pytest.raises(ConfigError,
                       match="DIGIWEETJES_SEND_REQUESTS_PER_SECOND moet 0 of meer zijn"):
        Settings.from_env({"DIGIWEETJES_SEND_REQUESTS_PER_SECOND": "-1"})
    with pytest.raises(ConfigError,
                       match="DIGIWEETJES_SEND_RATE_LIMITED_SECONDS moet groter dan 0 zijn"):
        Settings.from_env({"DIGIWEETJES_SEND_RATE_LIMITED_SECONDS": "0"})


# -- one budget in the database ---------------------------------------------------------------


def test_two_workers_take_their_slots_from_one_budget(db) -> None:
    here, there = SharedBudget(db, "resend", 2.0), SharedBudget(db, "resend", 2.0)
    # At the same moment, each takes the slot after the other's.
    slots = [budget.take(500.0, 5.0) for budget in [here, there, here, there]]
    assert all(s.granted for s in slots)
    assert [s.at for s in slots] == pytest.approx([500.0 + i * SPACING / 2 for i in range(4)])
    there.rate_limited(now=503.0, sent_at=slots[-1].at, retry_after=5.0)
    assert not here.take(503.5, 0.25).granted and here.take(508.0, 0.25).granted
    with db.session() as session:
        row = session.scalars(select(SendRate)).one()
    assert (row.provider, row.ceiling, row.rate, row.blocked_until) == ("resend", 2.0, 1.0, 508.0)
    # The brake of the whole send: failures in a row, whoever met them; a success ends the row.
    assert [here.failed(510.0), there.failed(510.0), here.failed(510.0)] == [1, 2, 3]
    there.accepted(511.0, None)
    assert here.failed(512.0) == 1
    here.clear_failures(513.0)
    assert there.failed(513.0) == 1


def test_a_lower_setting_caps_the_shared_pace_at_once(db) -> None:
    SharedBudget(db, "brevo", 10.0).take(0.0, 0.25)
    slot = SharedBudget(db, "brevo", 1.0).take(0.0, 5.0)
    assert slot.at == pytest.approx(0.1 / HEADROOM)  # the 10/s slot before, then 1/s
    assert SharedBudget(db, "brevo", 1.0).take(0.0, 5.0).at == pytest.approx(
        slot.at + SPACING)


# -- the engine with 429s (scripted provider, fake clock) -------------------------------------


def _engine(db, settings, clock, provider, **options):
    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    defaults = {"concurrency": 1, "backoff": Backoff(base=1.0, cap=60.0), "brake_after": 3,
                "max_attempts": 2}
    return SendEngine(db, provider, sample_issue(settings), settings, clock,
                      SendOptions(**{**defaults, **options}), sleep=sleep,
                      monotonic=lambda: clock.now().timestamp(), rng=random.Random(1))


def _too_many(retry_after: float | None = 2.0) -> TransientProviderError:
    return TransientProviderError("scripted: HTTP 429", retry_after=retry_after, status_code=429)


def _subscribers(db, settings, clock, n: int) -> None:
    for i in range(n):
        add_subscriber(db, settings, f"lid{i:03d}@example.be", now=clock.now())


def test_429s_count_neither_as_attempts_nor_towards_the_brake(db, settings, clock) -> None:
    _subscribers(db, settings, clock, 6)
    provider = ScriptedProvider(max_batch=3, script=[_too_many()] * 7)
    campaign = freeze(db, sample_issue(settings), provider.name, clock.now())
    started = clock.now()
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.done and summary.counts["sent"] == 6, summary.paused_reason
    assert set(provider.delivered.values()) == {1} and len(provider.delivered) == 6
    assert [d.attempts for d in rows(db, campaign.id)] == [0] * 6
    assert (clock.now() - started).total_seconds() >= 7 * 2.0  # every Retry-After honoured


def test_an_endless_429_storm_pauses_after_its_time_bound(db, settings, clock) -> None:
    _subscribers(db, settings, clock, 4)
    provider = ScriptedProvider(max_batch=2, script=[_too_many(5.0)] * 1000)
    campaign = freeze(db, sample_issue(settings), provider.name, clock.now())
    summary = _engine(db, settings, clock, provider, rate_limited_seconds=120.0).run(campaign)
    assert not summary.done
    assert "2 minuten lang elke aanvraag als te veel" in summary.paused_reason
    assert 20 <= len(provider.batches) <= 30  # one every 5 s for two minutes, give or take
    assert {d.state for d in rows(db, campaign.id)} == {"queued"}
    assert [d.attempts for d in rows(db, campaign.id)] == [0] * 4


def test_other_failures_still_brake(db, settings, clock) -> None:
    _subscribers(db, settings, clock, 8)
    provider = ScriptedProvider(max_batch=2, script=[_too_many(), TransientProviderError(
        "HTTP 503", status_code=503)] * 10)
    campaign = freeze(db, sample_issue(settings), provider.name, clock.now())
    summary = _engine(db, settings, clock, provider, max_attempts=50).run(campaign)
    assert not summary.done and "3 aanvragen na elkaar mislukt" in summary.paused_reason


# -- against the fake provider over loopback --------------------------------------------------


def _send(db: Database, settings: Settings, name: str, fake: FakeProviderServer,
          options: SendOptions):
    clock = SystemClock()
    compiled = sample_issue(settings)

    def factory():
        return FACTORIES[name](base_url=fake.url, timeout=QUICK)

    provider = factory()
    campaign = freeze(db, compiled, provider.name, clock.now())

    def engine_of_another_process(*, stop, share):
        return SendEngine(Database(db.url), factory(), compiled, settings, clock, options,
                          stop=stop, share=share)

    engine = SendEngine(db, provider, compiled, settings, clock, options,
                        engine_factory=engine_of_another_process)
    try:
        return engine.run(campaign)
    finally:
        provider.close()


def test_two_processes_share_one_rate_the_provider_never_sees_exceeded(db, settings) -> None:
    insert_subscribers(db, settings, 150, SystemClock().now())
    # The fake enforces 5 a second as the provider would: one request too many is a 429.
    with FakeProviderServer(faults=Faults(requests_per_second=5)) as fake:
        options = SendOptions(concurrency=2, processes=2, batch_size=5, requests_per_second=5)
        summary = _send(db, settings, "postmark", fake, options)
        recorded = fake.state.deliveries()
        times = list(fake.state.request_clock.times)
    assert summary.done and summary.counts["sent"] == 150
    assert (recorded["total"], recorded["distinct"], recorded["duplicate_count"]) == \
        (150, 150, 0)
    assert len(times) == 30 and most_in_one_second(times) <= 5


def test_the_adapters_default_rate_applies_when_no_setting_is_given(db, settings) -> None:
    insert_subscribers(db, settings, 40, SystemClock().now())
    with FakeProviderServer(faults=Faults(requests_per_second=2)) as fake:
        # Resend's default is 2 requests a second a team; four in flight would burst past it.
        summary = _send(db, settings, "resend", fake,
                        SendOptions(concurrency=4, batch_size=5))
        times = list(fake.state.request_clock.times)
    assert summary.done and summary.counts["sent"] == 40
    assert len(times) == 8 and most_in_one_second(times) <= 2


def test_a_429_storm_slows_the_send_down_and_it_finishes_without_pausing(db, settings) -> None:
    insert_subscribers(db, settings, 80, SystemClock().now())
    storm = Faults(seed=5, rate_limit_rate=0.2, retry_after_s=1.0, script=["429"] * 4)
    with FakeProviderServer(faults=storm) as fake:
        options = SendOptions(concurrency=3, processes=2, batch_size=5, requests_per_second=20,
                              brake_after=3, max_attempts=2)
        summary = _send(db, settings, "brevo", fake, options)
        recorded = fake.state.deliveries()
        times = sorted(fake.state.request_clock.times)
    with db.session() as session:
        row = session.scalars(select(SendRate)).one()
    assert summary.done and summary.paused_reason is None
    assert summary.counts["sent"] == 80
    assert (recorded["total"], recorded["distinct"], recorded["duplicate_count"]) == (80, 80, 0)
    assert len(times) >= 16 + 4  # the 429s were retried
    # Slowed down: the rate was cut, and everyone waited out a Retry-After of one second.
    assert row.slowed_at > 0 and row.blocked_until > 0
    assert max(b - a for a, b in itertools.pairwise(times)) >= 0.7
