"""The sending loop: claim a batch, personalize, send, record; N workers, retries, a brake.

Each worker repeats: claim (committed) → build the recipients from the compiled issue (no
rendering, only placeholder values and signed links) → wait for the rate limiter → one provider
request → record the outcome (committed). Outcomes follow ``digiweetjes.sending.ledger``:
transient errors go back to the queue with backoff and the same key, uncertain ones become
``uncertain`` unless the provider's idempotency key makes a resend a replay, refusals become
``failed``. After ``brake_after`` consecutive failed requests, or at once when the provider
refuses the account (401/402/403), the campaign is paused: ``send`` again resumes it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from digiweetjes.clock import Clock
from digiweetjes.config import Secret, Settings
from digiweetjes.db import Database
from digiweetjes.errors import (
    ConfigError,
    PermanentProviderError,
    ProviderError,
    SendingError,
    StorageError,
    TransientProviderError,
    UncertainOutcomeError,
)
from digiweetjes.models import CampaignState
from digiweetjes.providers.base import Batch, BatchContent, Provider, Recipient, batch_size_for
from digiweetjes.render import PLACEHOLDERS, CompiledIssue, RecipientData
from digiweetjes.sending import ledger
from digiweetjes.sending.backoff import Backoff
from digiweetjes.sending.ledger import CampaignInfo, ClaimedBatch, Ledger
from digiweetjes.sending.links import LinkSigner
from digiweetjes.sending.memory import tame_allocator
from digiweetjes.sending.processes import run_in_processes
from digiweetjes.sending.progress import SendProgress
from digiweetjes.sending.ratelimit import RateLimiter

log = logging.getLogger("digiweetjes.sending")

_T = TypeVar("_T")
#: How often a ledger write is tried while the database is busy (about a minute in all).
STORAGE_ATTEMPTS = 35

#: Refusals about the account, not the batch: every other batch would be refused the same way.
ACCOUNT_STATUSES = frozenset({401, 402, 403})

_SEND_ENV: dict[str, tuple[str, type]] = {
    "CONCURRENCY": ("concurrency", int), "BATCH_SIZE": ("batch_size", int),
    "REQUESTS_PER_SECOND": ("requests_per_second", float),
    "MESSAGES_PER_HOUR": ("messages_per_hour", int),
    "BRAKE_AFTER": ("brake_after", int), "MAX_ATTEMPTS": ("max_attempts", int),
    "PROCESSES": ("processes", int),
}


@dataclass(frozen=True)
class SendOptions:
    """How hard to push a provider (``DIGIWEETJES_SEND_*`` in the environment)."""

    concurrency: int = 4
    #: Sending processes, each with ``concurrency`` requests in flight (needs a provider
    #: factory: every process opens its own connections).
    processes: int = 1
    #: Recipients a request; None: the provider's maximum.
    batch_size: int | None = None
    requests_per_second: float | None = None
    messages_per_hour: int | None = None
    brake_after: int = 10
    max_attempts: int = 8
    backoff: Backoff = field(default_factory=Backoff)
    #: A batch held longer than this by a worker on another machine counts as abandoned.
    lease: timedelta = timedelta(minutes=10)
    #: Resend under an idempotency key only while this much of its lifetime is left.
    key_margin: timedelta = timedelta(minutes=5)
    #: Rough ceiling of one request's body where every message carries its own full body.
    max_request_bytes: int = 3_000_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SendOptions:
        """Options from ``DIGIWEETJES_SEND_CONCURRENCY``, ``_REQUESTS_PER_SECOND``, ... ."""
        values: dict[str, Any] = {}
        for suffix, (name, kind) in _SEND_ENV.items():
            raw = environ.get(f"DIGIWEETJES_SEND_{suffix}", "").strip()
            if not raw:
                continue
            try:
                value = kind(raw)
            except ValueError as exc:
                raise ConfigError(f"DIGIWEETJES_SEND_{suffix} is not a number: {raw!r}") from exc
            if value <= 0:
                raise ConfigError(f"DIGIWEETJES_SEND_{suffix} must be positive")
            values[name] = value
        return cls(**values)


@dataclass
class SendSummary:
    """What one ``send`` run did, and where the campaign stands after it."""

    issue_id: str
    provider: str
    counts: dict[str, int]
    elapsed: float = 0.0
    requests: int = 0
    retries: int = 0
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    suppressed: int = 0
    recovered: tuple[int, int] = (0, 0)
    paused_reason: str | None = None
    done: bool = False

    def lines(self) -> list[str]:
        rate = self.sent / self.elapsed if self.elapsed > 0 else 0.0
        c = self.counts
        lines = [
            f"This run: {self.sent} sent, {self.failed} failed, {self.uncertain} uncertain, "
            f"{self.suppressed} skipped (suppressed) in {self.elapsed:.1f} s "
            f"({rate:.0f} messages/s, {self.requests} requests, {self.retries} retried).",
            f"Campaign {self.issue_id} via {self.provider}: {c['sent']} sent, {c['failed']} "
            f"failed, {c['uncertain']} uncertain, {c['suppressed']} suppressed, "
            f"{c['queued'] + c['sending']} still to send.",
        ]
        if self.recovered != (0, 0):
            lines.append(f"Recovered from a stopped worker: {self.recovered[0]} resent under "
                         f"their idempotency key, {self.recovered[1]} marked uncertain.")
        if c["uncertain"]:
            lines.append(f"{c['uncertain']} deliveries are uncertain (they may have arrived); "
                         "see `digiweetjes status`, resend only with --include-uncertain.")
        if self.paused_reason:
            lines.append(f"Paused: {self.paused_reason}")
        return lines


def batch_content(compiled: CompiledIssue, settings: Settings) -> BatchContent:
    """The content every batch of the issue shares (built once)."""
    return BatchContent(
        issue_id=compiled.issue_id, subject=compiled.subject,
        html=compiled.html, text=compiled.text,
        placeholders=PLACEHOLDERS, from_email=settings.sender_email,
        from_name=settings.sender_name, reply_to=settings.reply_to or None,
        unsubscribe_mailto=settings.unsubscribe_mailto, tag=compiled.tag)


class Redactor:
    """Removes every configured secret from text that may reach a log or a person."""

    def __init__(self, settings: Settings) -> None:
        values = [v.reveal() for v in settings.provider_options.values()
                  if isinstance(v, Secret)]
        values.append(settings.secret_key.reveal())
        self._values = sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "[redacted]")
        return text


class SendEngine:
    """Sends one campaign with a provider; ``run`` returns a summary (see module docstring)."""

    def __init__(self, db: Database, provider: Provider, compiled: CompiledIssue,
                 settings: Settings, clock: Clock, options: SendOptions | None = None, *,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, worker_id: str | None = None,
                 progress: SendProgress | None = None,
                 provider_factory: Callable[[], Provider] | None = None) -> None:
        self.db = db
        self.provider = provider
        self.compiled = compiled
        self.settings = settings
        self.clock = clock
        self.options = options or SendOptions()
        self.sleep = sleep
        self.monotonic = monotonic
        self.rng = rng or random.Random()
        self.worker_id = worker_id or ledger.new_worker_id()
        self.progress = progress
        self.provider_factory = provider_factory
        self._shared_stop: Any = None
        self.content = batch_content(compiled, settings)
        self.batch_size = batch_size_for(provider.capabilities, self.content,
                                         self.options.batch_size,
                                         byte_budget=self.options.max_request_bytes)
        self.limiter = RateLimiter(self.options.requests_per_second,
                                   self.options.messages_per_hour,
                                   monotonic=monotonic, sleep=sleep)
        self.redact = Redactor(settings)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._in_flight = 0
        self._consecutive_failures = 0
        self._error: BaseException | None = None

    # -- the run --

    def run(self, campaign: CampaignInfo) -> SendSummary:
        """Send what is left of ``campaign`` (recovering batches of dead workers first)."""
        if campaign.provider != self.provider.name:
            raise SendingError(
                f"issue {campaign.issue_id} is being sent with {campaign.provider}; it cannot "
                f"be continued with {self.provider.name} (idempotency keys and message ids "
                "belong to one provider): set DIGIWEETJES_PROVIDER back to "
                f"{campaign.provider}")
        self.campaign = campaign
        tame_allocator()
        self.ledger = Ledger(self.db, campaign.id, self.worker_id)
        self.links = LinkSigner(self.settings, campaign.audience_frozen_at)
        self.summary = SendSummary(campaign.issue_id, self.provider.name, {})
        started = self.monotonic()
        now = self.clock.now()
        if campaign.state == CampaignState.PAUSED.value:
            ledger.set_state(self.db, campaign.id, CampaignState.SENDING, now)
        self.summary.recovered = self.ledger.recover(
            now, lease=self.options.lease, key_window=self._key_window())
        if self.options.processes > 1 and self.provider_factory is not None:
            run_in_processes(self, self.options.processes)
        else:
            counts = ledger.counts(self.db, campaign.id)
            open_rows = counts["queued"] + counts["sending"]
            if self.progress:
                self.progress.start(total=campaign.audience_size,
                                    done=campaign.audience_size - open_rows)
            try:
                self._run_workers()
            finally:
                if self.progress:
                    self.progress.stop()
        now = self.clock.now()
        if self._error is not None:
            raise self._error
        if self.summary.paused_reason:
            ledger.set_state(self.db, campaign.id, CampaignState.PAUSED, now,
                             self.summary.paused_reason)
        else:
            self.summary.done = ledger.finish_if_done(self.db, campaign.id, now)
        self.summary.counts = ledger.counts(self.db, campaign.id)
        self.summary.elapsed = self.monotonic() - started
        return self.summary

    def _key_window(self) -> timedelta | None:
        window = self.provider.capabilities.idempotency_window
        if window is None or window <= self.options.key_margin:
            return None
        return window - self.options.key_margin

    def _run_workers(self) -> None:
        count = max(1, self.options.concurrency)
        if count == 1:
            self._guarded_work()
            return
        threads = [threading.Thread(target=self._guarded_work, name=f"sender-{i}", daemon=True)
                   for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _guarded_work(self) -> None:
        try:
            self._work()
        except BaseException as exc:
            with self._lock:
                if self._error is None:
                    self._error = exc
            self._stop.set()

    def _stopped(self) -> bool:
        return self._stop.is_set() or (self._shared_stop is not None
                                       and self._shared_stop.is_set())

    def _work(self) -> None:
        while not self._stopped():
            with self._lock:
                self._in_flight += 1
            try:
                try:
                    batch = self.ledger.claim(self.batch_size, self.clock.now())
                except StorageError as exc:
                    # A busy database: the claim rolled back whole, so simply try again.
                    log.warning("claiming a batch failed, retrying: %s", exc)
                    batch = None
                if batch is not None:
                    self._send(batch)
            finally:
                with self._lock:
                    self._in_flight -= 1
            if batch is None and not self._wait_for_work():
                return

    def _wait_for_work(self) -> bool:
        """Nothing claimable now: wait for a retry to fall due; False when all is done."""
        queued, _sending, earliest = self.ledger.pending()
        if queued == 0:
            with self._lock:
                busy = self._in_flight > 0
            if not busy:
                return False
            # A peer thread may still put its batch back in the queue.
            self._idle.wait(0.01)
            return True
        if earliest is not None:
            wait = (earliest - self.clock.now()).total_seconds()
            if wait > 0:
                self.sleep(min(wait, 1.0))
                return True
        # Queued rows due now that another worker holds locked: try again shortly.
        self._idle.wait(0.01)
        return True

    # -- one batch --

    def _recipient(self, row: ledger.ClaimedRow) -> Recipient:
        unsubscribe, preferences = self.links.links(row.subscriber_id, row.email_hash)
        html_values, text_values = self.compiled.values_for(RecipientData(
            row.email, row.name, row.subregion, unsubscribe, preferences))
        return Recipient(str(row.delivery_id), row.email, row.name, html_values, text_values,
                         unsubscribe)

    def _send(self, batch: ClaimedBatch) -> None:
        if batch.suppressed:
            self._count(suppressed=batch.suppressed)
        if not batch.rows:
            return
        if batch.retry:
            self._count(retries=1)
        request = Batch(self.content, [self._recipient(r) for r in batch.rows],
                        idempotency_key=batch.key)
        self.limiter.acquire(len(batch.rows))
        self._count(requests=1)
        try:
            results = self.provider.send_batch(request)
        except TransientProviderError as exc:
            self._transient(batch, exc)
        except UncertainOutcomeError as exc:
            self._uncertain(batch, self.redact(str(exc)))
        except PermanentProviderError as exc:
            self._refused(batch, exc)
        except ProviderError as exc:
            self._uncertain(batch, self.redact(str(exc)))
        except BaseException as exc:
            # A fault of ours mid-request: whether it left is unknown, so it is uncertain.
            self._durable(self.ledger.uncertain, batch, self.clock.now(),
                                  f"the sender failed during the request ({type(exc).__name__})")
            raise
        else:
            now = self.clock.now()
            sent, failed = self._durable(self.ledger.record, results, now)
            if sent + failed < len(batch.rows):
                missing = self._durable(self.ledger.uncertain, batch, now,
                                        "the provider gave no result for it")
                self._count(uncertain=missing)
            self._count(sent=sent, failed=failed)
            with self._lock:
                self._consecutive_failures = 0

    def _transient(self, batch: ClaimedBatch, exc: TransientProviderError) -> None:
        now = self.clock.now()
        reason = self.redact(str(exc))
        attempt = batch.attempts + 1
        if attempt >= self.options.max_attempts:
            moved = self._durable(self.ledger.fail, batch, now,
                                  f"gave up after {attempt} attempts: {reason}")
            self._count(failed=moved)
        else:
            delay = self.options.backoff.delay(attempt, exc.retry_after, self.rng)
            self._durable(self.ledger.requeue, batch, now, now + timedelta(seconds=delay), reason)
        log.warning("%s: %s (attempt %d)", self.campaign.issue_id, reason, attempt)
        self._failure(reason)

    def _uncertain(self, batch: ClaimedBatch, reason: str) -> None:
        now = self.clock.now()
        window = self._key_window()
        attempt = batch.attempts + 1
        if window is not None and batch.key_first_used_at + window > now \
                and attempt < self.options.max_attempts:
            # The key makes the resend a replay if the first request did get through.
            delay = self.options.backoff.delay(attempt, None, self.rng)
            self._durable(self.ledger.requeue, batch, now, now + timedelta(seconds=delay),
                                f"{reason}; resending under the same idempotency key")
        else:
            moved = self._durable(self.ledger.uncertain, batch, now, reason)
            self._count(uncertain=moved)
        log.warning("%s: %s", self.campaign.issue_id, reason)
        self._failure(reason)

    def _refused(self, batch: ClaimedBatch, exc: PermanentProviderError) -> None:
        now = self.clock.now()
        reason = self.redact(str(exc))
        if exc.status_code in ACCOUNT_STATUSES:
            # Not this batch's fault: keep it queued and stop before every batch is refused.
            self._durable(self.ledger.requeue, batch, now, now, reason, count_attempt=False)
            self._pause(f"the provider refused the account: {reason}")
            return
        moved = self._durable(self.ledger.fail, batch, now, reason)
        self._count(failed=moved)
        log.warning("%s: %s", self.campaign.issue_id, reason)
        self._failure(reason)

    def _durable(self, write: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run a ledger write, retrying while the database is busy: an outcome once known
        must be recorded, or a resumed run would have to call it uncertain."""
        for attempt in range(1, STORAGE_ATTEMPTS + 1):
            try:
                return write(*args, **kwargs)
            except StorageError as exc:
                if attempt == STORAGE_ATTEMPTS:
                    raise
                log.warning("recording an outcome failed (attempt %d), retrying: %s",
                            attempt, exc)
                time.sleep(min(2.0, 0.05 * 2 ** attempt))
        raise AssertionError("unreachable")

    # -- shared counters --

    def _failure(self, reason: str) -> None:
        with self._lock:
            self._consecutive_failures += 1
            brake = self._consecutive_failures >= self.options.brake_after
        if brake:
            self._pause(f"{self.options.brake_after} consecutive failed requests; the last: "
                        f"{reason}")

    def _pause(self, reason: str) -> None:
        with self._lock:
            if self.summary.paused_reason is None:
                self.summary.paused_reason = reason + \
                    " — run `digiweetjes send` again to resume"
        self._stop.set()
        if self._shared_stop is not None:
            self._shared_stop.set()

    def _count(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self.summary, name, getattr(self.summary, name) + amount)
        done = sum(amounts.get(k, 0) for k in ("sent", "failed", "uncertain", "suppressed"))
        if done and self.progress:
            self.progress.advance(done, sent=amounts.get("sent", 0))

