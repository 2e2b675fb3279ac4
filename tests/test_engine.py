"""The sending engine against a scripted provider: outcomes, retries, the brake, recovery."""

from __future__ import annotations

import logging
import random
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from digiweetjes.cli.sending_text import status_lines, summary_lines
from digiweetjes.clock import FixedClock
from digiweetjes.config import Secret
from digiweetjes.errors import (
    PermanentProviderError,
    SendingError,
    TransientProviderError,
    UncertainOutcomeError,
)
from digiweetjes.providers.base import Batch
from digiweetjes.sending import campaigns, service
from digiweetjes.sending.backoff import Backoff
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.ledger import Ledger
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.ratelimit import RateLimiter
from digiweetjes.sending.recipient_links import LinkSigner
from digiweetjes.sending.references import REFERENCE_PATTERN
from digiweetjes.sending.workers import new_worker_id
from digiweetjes.subscribers.lookup import subscriber_for_token
from digiweetjes.subscribers.tokens import Purpose, subscriber_links
from tests.sending_support import (
    ScriptedProvider,
    add_subscriber,
    freeze,
    rows,
    sample_issue,
    suppress,
)

SECRET = "sk-live-engine-9f8e7d6c5b4a-never-print"


def _engine(db, settings, clock, provider, sleeps=None, **options):
    recorded = sleeps if sleeps is not None else []

    def sleep(seconds: float) -> None:
        recorded.append(seconds)
        clock.advance(seconds=seconds)

    defaults = {"concurrency": 1, "backoff": Backoff(base=1.0, cap=60.0), "brake_after": 5}
    defaults.update(options)
    return SendEngine(db, provider, sample_issue(settings), settings, clock,
                      SendOptions(**defaults), sleep=sleep,
                      monotonic=lambda: clock.now().timestamp(), rng=random.Random(1))


def _status_lines(db, campaign) -> list[str]:
    return status_lines(campaign.issue_id, service.campaign_status(db, campaign.issue_id))


def _setup(db, settings, clock, n=25, provider=None, **kw):
    now = clock.now()
    for i in range(n):
        add_subscriber(db, settings, f"lid{i:03d}@example.be", now=now,
                       name=f"Lid {i}" if i % 2 else None, municipality="Brugge",
                       subregion="centrum")
    provider = provider or ScriptedProvider(**kw)
    return provider, freeze(db, sample_issue(settings), provider.name, now)


def test_every_recipient_is_sent_once_with_its_own_links(db, settings, clock) -> None:
    provider, campaign = _setup(db, settings, clock)
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.done and summary.sent == 25 and summary.requests == 3
    assert summary.counts["sent"] == 25
    assert set(provider.delivered.values()) == {1} and len(provider.delivered) == 25
    found = {d.reference: d for d in rows(db, campaign.id)}
    assert len(found) == 25 and all(REFERENCE_PATTERN.fullmatch(ref) for ref in found)
    for batch in provider.batches:
        assert len(batch.recipients) <= provider.max_batch
        for r in batch.recipients:
            row = found[r.reference]  # the delivery's own reference, for webhooks
            assert row.message_id == f"<{r.reference}@scripted>"
            token = r.unsubscribe_url.rsplit("/", 1)[1]
            with db.session() as session:  # the link names this delivery's subscriber
                assert subscriber_for_token(session, clock, settings, token,
                                            Purpose.UNSUBSCRIBE).id == row.subscriber_id
            assert r.html_values["unsubscribe_url"] == r.unsubscribe_url
            assert r.text_values["greeting"].startswith("Beste ")
            assert "Brugge" in r.text_values["digibank"] or r.text_values["digibank"]
    assert campaigns.get_campaign(db, campaign.issue_id).state == "done"


def test_link_signer_makes_the_tokens_make_token_makes(settings) -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    signer = LinkSigner(settings, now)
    for _ in range(3):
        email_hash = secrets.token_hex(32)
        expected = subscriber_links(settings, FixedClock(now), email_hash)
        assert signer.links(email_hash) == (expected["unsubscribe_url"],
                                            expected["preferences_url"])


def test_transient_errors_are_retried_with_backoff_honouring_retry_after(db, settings,
                                                                         clock) -> None:
    script = [TransientProviderError("HTTP 429", retry_after=42.0),
              TransientProviderError("HTTP 503")]
    provider, campaign = _setup(db, settings, clock, n=5, script=script)
    sleeps: list[float] = []
    summary = _engine(db, settings, clock, provider, sleeps).run(campaign)
    assert summary.done and summary.counts["sent"] == 5 and summary.retries == 2
    assert provider.delivered == {f"lid{i:03d}@example.be": 1 for i in range(5)}
    assert sum(sleeps) >= 42.0
    # Every attempt of the batch carried the same key and the same recipients.
    assert len({b.idempotency_key for b in provider.batches}) == 1
    assert len({tuple(r.reference for r in b.recipients) for b in provider.batches}) == 1
    assert [d.attempts for d in rows(db, campaign.id)] == [2] * 5


def test_a_batch_that_keeps_failing_transiently_pauses_and_resumes(db, settings,
                                                                   clock) -> None:
    # Issue 9: a request never accepted is never the recipients' fault: after max_attempts
    # the batch goes back to the queue and the send pauses (it used to end "failed", done).
    provider, campaign = _setup(db, settings, clock, n=3,
                                script=[TransientProviderError("HTTP 500")] * 3)
    summary = _engine(db, settings, clock, provider, max_attempts=3).run(campaign)
    assert summary.counts["failed"] == 0 and summary.counts["queued"] == 3
    assert not summary.done and "3 pogingen na elkaar mislukt (HTTP 500)" in \
        summary.paused_reason
    paused = campaigns.get_campaign(db, campaign.issue_id)
    assert paused.state == "paused" and "HTTP 500" in paused.pause_reason
    assert {d.reason for d in rows(db, campaign.id)} == {"HTTP 500"}
    assert [d.attempts for d in rows(db, campaign.id)] == [0] * 3
    summary = _engine(db, settings, clock, provider, max_attempts=3).run(paused)
    assert summary.done and summary.counts["sent"] == 3
    assert set(provider.delivered.values()) == {1}


def test_a_run_whose_every_request_was_refused_pauses_with_them_queued(db, settings,
                                                                       clock) -> None:
    refused = [PermanentProviderError("HTTP 400: sender not verified")] * 3
    provider, campaign = _setup(db, settings, clock, n=25, script=refused)
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.sent == 0 and summary.failed == 0 and not summary.done
    assert summary.counts["queued"] == 25 and summary.counts["failed"] == 0
    assert "weigerde elke aanvraag (HTTP 400: sender not verified)" in summary.paused_reason
    paused = campaigns.get_campaign(db, campaign.issue_id)
    assert paused.state == "paused"
    summary = _engine(db, settings, clock, provider).run(paused)
    assert summary.done and summary.counts["sent"] == 25


def test_an_uncertain_outcome_is_never_resent_without_a_key(db, settings, clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=15, deliver_before_raising=True,
                                script=[UncertainOutcomeError("read timeout after sending")])
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.counts == {"queued": 0, "sending": 0, "sent": 5, "failed": 0,
                              "uncertain": 10, "suppressed": 0}
    assert set(provider.delivered.values()) == {1}
    lines = _status_lines(db, campaign)
    assert any("read timeout after sending" in line for line in lines)
    assert any("--include-uncertain" in line for line in lines)
    # Only an explicit decision sends them again.
    campaign, _ = service.start_or_resume(db, sample_issue(settings), provider, clock,
                                          include_uncertain=True)
    _engine(db, settings, clock, provider).run(campaign)
    assert campaigns.counts(db, campaign.id)["sent"] == 15


def test_an_uncertain_outcome_is_replayed_under_the_same_key(db, settings, clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=15, deliver_before_raising=True,
                                idempotency_window=timedelta(minutes=30),
                                script=[UncertainOutcomeError("connection dropped")])
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.counts["sent"] == 15 and summary.counts["uncertain"] == 0
    assert set(provider.delivered.values()) == {1} and len(provider.delivered) == 15
    first = provider.batches[0]
    [replay] = [b for b in provider.batches[1:] if b.idempotency_key == first.idempotency_key]
    assert replay.recipients == first.recipients  # byte-identical request


def test_a_refused_batch_fails_with_the_reason_and_the_rest_goes_on(db, settings,
                                                                    clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=25,
                                script=[PermanentProviderError("HTTP 400: bad address")],
                                fail_emails={"lid024@example.be"})
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.counts["failed"] == 11 and summary.counts["sent"] == 14
    reasons = dict(campaigns.reasons(db, campaign.id, "failed"))
    assert reasons == {"HTTP 400: bad address": 10,
                       "lid024@example.be: inactive recipient": 1}


def test_the_brake_pauses_after_consecutive_failures_and_send_resumes(db, settings,
                                                                      clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=100,
                                script=[TransientProviderError("HTTP 503")] * 4)
    summary = _engine(db, settings, clock, provider, brake_after=4).run(campaign)
    assert summary.paused_reason and "4 aanvragen na elkaar mislukt" in summary.paused_reason
    paused = campaigns.get_campaign(db, campaign.issue_id)
    assert paused.state == "paused" and "HTTP 503" in paused.pause_reason
    assert summary.counts["failed"] == 0 and summary.counts["sent"] == 0
    summary = _engine(db, settings, clock, provider, brake_after=4).run(paused)
    assert summary.done and summary.counts["sent"] == 100
    assert set(provider.delivered.values()) == {1}


def test_an_account_refusal_pauses_at_once_and_fails_nobody(db, settings, clock) -> None:
    refused = PermanentProviderError("HTTP 401: Key not found", status_code=401)
    provider, campaign = _setup(db, settings, clock, n=30, script=[refused])
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert "de provider weigert het account" in summary.paused_reason
    assert summary.counts["queued"] == 30 and summary.counts["failed"] == 0
    assert len(provider.batches) == 1


def test_suppressed_since_the_freeze_is_skipped(db, settings, clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=5)
    suppress(db, settings, "lid003@example.be", clock.now())
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.counts["suppressed"] == 1 and summary.counts["sent"] == 4
    assert "lid003@example.be" not in provider.delivered


def test_secrets_never_reach_the_ledger_or_the_logs(db, settings, clock, caplog) -> None:
    settings = settings.with_(provider_options={"api_key": Secret(SECRET)})
    script = [TransientProviderError(f"HTTP 503: bad key {SECRET}"),
              PermanentProviderError(f"HTTP 400: key {SECRET} refused")]
    provider, campaign = _setup(db, settings, clock, n=3, script=script)
    with caplog.at_level(logging.DEBUG):
        summary = _engine(db, settings, clock, provider).run(campaign)
    text = "\n".join(summary_lines(summary)) + caplog.text
    text += "\n".join(_status_lines(db, campaign))
    text += "".join(d.reason or "" for d in rows(db, campaign.id))
    assert "[redacted]" in text
    assert SECRET not in text


def test_a_campaign_stays_with_its_provider(db, settings, clock) -> None:
    _provider, campaign = _setup(db, settings, clock, n=1)
    other = ScriptedProvider(name="other")
    with pytest.raises(SendingError, match="being sent with scripted"):
        _engine(db, settings, clock, other).run(campaign)


def test_many_workers_send_everything_once(db, settings, clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=200,
                                script=[None, TransientProviderError("HTTP 429",
                                                                     retry_after=0.0)] * 3)
    engine = _engine(db, settings, clock, provider, concurrency=4)
    summary = engine.run(campaign)
    assert summary.done and summary.counts["sent"] == 200
    assert len(provider.delivered) == 200 and set(provider.delivered.values()) == {1}


# -- kill -9 between steps, simulated: the ledger as a dead worker would leave it ----------


def _dead_worker() -> str:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return f"{new_worker_id().split(':')[0]}:{int(child.stdout)}:dead"


def _die_after_send(db, settings, clock, provider, campaign) -> list[str]:
    """Claim and send one batch as a worker that then dies before recording."""
    dead = _engine(db, settings, clock, provider)
    dead.campaign = campaign
    dead.links = LinkSigner(settings, campaign.audience_frozen_at)
    claimed = Ledger(db, campaign.id, _dead_worker()).claim(provider.max_batch, clock.now())
    request = Batch(dead.content, [dead._recipient(r) for r in claimed.rows], claimed.key)
    provider.send_batch(request)
    return [r.email for r in claimed.rows]


@pytest.mark.parametrize("keyed", [False, True])
def test_killed_after_sending_before_recording(db, settings, clock, keyed) -> None:
    window = timedelta(minutes=30) if keyed else None
    provider, campaign = _setup(db, settings, clock, n=25, idempotency_window=window)
    in_flight = _die_after_send(db, settings, clock, provider, campaign)
    clock.advance(seconds=5)
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert len(provider.delivered) == 25 and set(provider.delivered.values()) == {1}
    if keyed:
        assert summary.recovered == (10, 0) and summary.counts["sent"] == 25
    else:
        assert summary.recovered == (0, 10)
        assert summary.counts["uncertain"] == 10 and summary.counts["sent"] == 15
        uncertain = {e for s, e, _i, _r in campaigns.problems(db, campaign.id)}
        assert uncertain == set(in_flight)


def test_killed_after_claiming_before_sending(db, settings, clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=25)
    Ledger(db, campaign.id, _dead_worker()).claim(10, clock.now())
    summary = _engine(db, settings, clock, provider).run(campaign)
    # Nobody can know the request never left: reported uncertain, not sent blindly.
    assert summary.counts["uncertain"] == 10 and summary.counts["sent"] == 15
    assert len(provider.delivered) == 15


def test_killed_after_recording_before_finishing(db, settings, clock) -> None:
    provider, campaign = _setup(db, settings, clock, n=5)
    work = Ledger(db, campaign.id, "gone")
    batch = work.claim(10, clock.now())
    from digiweetjes.providers.base import RecipientResult

    work.record([RecipientResult(r.reference, "sent", "m") for r in batch.rows],
                clock.now())
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.done and summary.requests == 0 and not provider.batches


# -- the rate limiter and the backoff ------------------------------------------------------


def test_rate_limiter_spaces_requests_and_counts_messages_per_hour() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    limiter = RateLimiter(requests_per_second=2, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(6):
        limiter.acquire(1)
    assert now[0] == pytest.approx(2.0)  # a burst of 2, then one every 0.5 s
    now[0], sleeps[:] = 0.0, []
    hourly = RateLimiter(messages_per_hour=3600, monotonic=lambda: now[0], sleep=sleep)
    hourly.acquire(3600)
    hourly.acquire(10)
    assert now[0] == pytest.approx(10.0)


def test_backoff_grows_caps_jitters_and_honours_the_hint() -> None:
    backoff = Backoff(base=1.0, cap=30.0)
    rng = random.Random(3)
    delays = [backoff.delay(a, rng=rng) for a in range(1, 10)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(30.0, 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert backoff.delay(1, retry_after=120.0) == 120.0


def test_send_options_from_the_environment() -> None:
    from digiweetjes.config import Settings
    from digiweetjes.errors import ConfigError

    options = Settings.from_env({"DIGIWEETJES_SEND_CONCURRENCY": "8",
                                 "DIGIWEETJES_SEND_REQUESTS_PER_SECOND": "2.5",
                                 "DIGIWEETJES_SEND_MESSAGES_PER_HOUR": "6000"}).send
    assert (options.concurrency, options.requests_per_second,
            options.messages_per_hour) == (8, 2.5, 6000)
    with pytest.raises(ConfigError, match="DIGIWEETJES_SEND_BRAKE_AFTER"):
        Settings.from_env({"DIGIWEETJES_SEND_BRAKE_AFTER": "many"})


def test_settings_carry_the_default_send_options_and_the_projects_path() -> None:
    from digiweetjes.config import Settings
    from digiweetjes.errors import ConfigError

    settings = Settings.from_env({"DIGIWEETJES_ISSUES_DIR": "/srv/nummers"})
    assert settings.send == SendOptions()
    assert str(settings.projects_path) == "/srv/nummers/projects.yaml"
    with pytest.raises(ConfigError, match="DIGIWEETJES_SEND_PROCESSES moet groter dan 0 zijn"):
        Settings.from_env({"DIGIWEETJES_SEND_PROCESSES": "0"})


def _failing_claims(monkeypatch, failures: int | None) -> list[int]:
    """Make ``Ledger.claim`` raise a deadlock ``failures`` times (None: always); count calls."""
    from digiweetjes.errors import StorageError

    calls: list[int] = []
    real_claim = Ledger.claim

    def claim(self, limit, now):
        calls.append(1)
        if failures is None or len(calls) <= failures:
            raise StorageError("de databank is niet bruikbaar: deadlock detected")
        return real_claim(self, limit, now)

    monkeypatch.setattr(Ledger, "claim", claim)
    return calls


def test_database_errors_while_claiming_are_retried_with_backoff(db, settings, clock,
                                                                  monkeypatch) -> None:
    provider, campaign = _setup(db, settings, clock, n=20)
    calls = _failing_claims(monkeypatch, 3)
    sleeps: list[float] = []
    summary = _engine(db, settings, clock, provider, sleeps).run(campaign)
    assert summary.done and summary.counts["sent"] == 20
    assert set(provider.delivered.values()) == {1}
    assert len(calls) == 3 + 2 + 1  # three refusals, two batches, the empty claim
    # Jittered exponential waits (50-100 % of 0.05, 0.1, 0.2 s), not a hot loop.
    assert len(sleeps) == 3
    for attempt, waited in enumerate(sleeps, start=1):
        assert 0.025 * 2 ** (attempt - 1) <= waited <= 0.05 * 2 ** (attempt - 1)


def test_a_database_that_keeps_refusing_stops_the_send_clearly(db, settings, clock,
                                                               monkeypatch) -> None:
    provider, campaign = _setup(db, settings, clock, n=20)
    calls = _failing_claims(monkeypatch, None)
    with pytest.raises(SendingError) as stopped:
        _engine(db, settings, clock, provider, database_attempts=6).run(campaign)
    message = str(stopped.value)
    assert message.startswith("verzenden gestopt: de databank gaf 6 keer na elkaar een fout")
    assert "deadlock detected" in message and "Niets is verloren" in message
    assert len(calls) == 6 and not provider.batches
    assert campaigns.counts(db, campaign.id)["queued"] == 20


def test_a_send_that_cannot_claim_due_work_pauses_instead_of_looping(db, settings, clock,
                                                                      monkeypatch) -> None:
    provider, campaign = _setup(db, settings, clock, n=20)
    # Rows are queued and due, but every claim comes back empty (as when other workers
    # kept taking them, or a lock was never released).
    monkeypatch.setattr(Ledger, "claim", lambda self, limit, now: None)
    sleeps: list[float] = []
    summary = _engine(db, settings, clock, provider, sleeps, stall_seconds=30).run(campaign)
    assert summary.paused_reason.startswith("geen vooruitgang in 30 s: er staan 20 berichten "
                                            "klaar")
    assert 30 <= sum(sleeps) <= 31
    paused = campaigns.get_campaign(db, campaign.issue_id)
    assert paused.state == "paused" and "geen vooruitgang" in paused.pause_reason
    assert summary.counts["queued"] == 20 and not provider.batches


def test_database_errors_while_recording_are_retried_and_the_outcome_kept(
        db, settings, clock, monkeypatch) -> None:
    from digiweetjes.errors import StorageError

    provider, campaign = _setup(db, settings, clock, n=10)
    real_record = Ledger.record
    refusals = [StorageError("de databank is niet bruikbaar: database is locked")] * 2

    def record(self, results, now):
        if refusals:
            raise refusals.pop()
        return real_record(self, results, now)

    monkeypatch.setattr(Ledger, "record", record)
    summary = _engine(db, settings, clock, provider).run(campaign)
    assert summary.done and summary.counts["sent"] == 10 and len(provider.batches) == 1


def test_a_database_gone_in_every_sending_process_is_said_once(db, settings, clock,
                                                               monkeypatch) -> None:
    from digiweetjes.db import Database

    provider, campaign = _setup(db, settings, clock, n=20)
    _failing_claims(monkeypatch, None)  # forked children inherit the failing claim
    options = SendOptions(concurrency=2, processes=2, database_attempts=3,
                          backoff=Backoff(base=0.01, cap=0.01))
    compiled = sample_issue(settings)

    def engine_of_another_process(*, stop, share):
        return SendEngine(Database(db.url), ScriptedProvider(), compiled, settings, clock,
                          options, stop=stop, share=share)

    engine = SendEngine(db, provider, compiled, settings, clock, options,
                        engine_factory=engine_of_another_process)
    with pytest.raises(SendingError) as stopped:
        engine.run(campaign)
    message = str(stopped.value)
    assert message.startswith("verzenden gestopt: de databank gaf 3 keer na elkaar een fout")
    assert message.count("verzenden gestopt") == 1 and "Error" not in message
    assert campaigns.counts(db, campaign.id)["queued"] == 20
