"""The sending loop: claim a batch, personalize, send, record; N workers, retries, a brake.

Each worker repeats: claim (committed) → build the recipients from the compiled issue (no
rendering, only placeholder values and signed links) → wait for a request slot
(``sending.pacing``: one rate for the whole send) → one provider request → record the outcome
(committed). Outcomes follow ``digiweetjes.sending.ledger``: transient errors go back to the
queue with backoff and the same key, uncertain ones become ``uncertain`` unless the provider's
idempotency key makes a resend a replay, refusals become ``failed``; a 429 only slows the pace
down (``sending.outcomes``). After ``brake_after`` consecutive failed requests, or at once when
the provider refuses the account (401/402/403) or cannot take any message
(``ProviderBlockedError``: a full outbox disk), or when a batch is still refused transiently
after ``max_attempts``, the campaign is paused with its batches back in the queue: ``send``
again resumes it. A run that sent nothing while the provider refused whole requests refused
them for the content or the configuration, which every batch shares, not for their
recipients: those batches go back to the queue too and
the campaign pauses rather than ending ``done`` with everyone ``failed``.

``SendEngine.run`` is one whole run of a campaign (recover, work, settle); ``work`` is the
worker threads alone, which is what each of several sending processes runs
(``sending.processes``), every one an engine of its own built by the ``engine_factory``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import (
    BatchTooLargeError,
    PermanentProviderError,
    ProviderBlockedError,
    ProviderError,
    SendingError,
    StorageError,
    TransientProviderError,
    UncertainOutcomeError,
)
from digiweetjes.models import CampaignState
from digiweetjes.providers.base import Batch, BatchContent, Provider, Recipient
from digiweetjes.providers.messages import display_name
from digiweetjes.render import PLACEHOLDERS, CompiledIssue, RecipientData
from digiweetjes.sending import campaigns
from digiweetjes.sending.backoff import Backoff
from digiweetjes.sending.batch_sizing import planned_batch_size
from digiweetjes.sending.campaigns import CampaignInfo
from digiweetjes.sending.ledger import ClaimedBatch, ClaimedRow, Ledger
from digiweetjes.sending.memory import tame_allocator
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.outcomes import RESUME_HINT, BatchOutcomes
from digiweetjes.sending.pacing import pacer_for
from digiweetjes.sending.processes import StopFlag, WorkerFactory, run_in_processes
from digiweetjes.sending.progress import Progress
from digiweetjes.sending.recipient_links import LinkSigner
from digiweetjes.sending.reconcile import run_reconciled
from digiweetjes.sending.redaction import Redactor
from digiweetjes.sending.summary import SendSummary, WorkReport
from digiweetjes.sending.workers import new_worker_id, worker_is_dead

log = logging.getLogger("digiweetjes.sending")

_T = TypeVar("_T")
#: Waits between attempts while the database refuses (a lock, a deadlock, a restart).
DATABASE_BACKOFF = Backoff(base=0.05, cap=2.0)


def batch_content(compiled: CompiledIssue, settings: Settings) -> BatchContent:
    """The content every batch of the issue shares (built once)."""
    return BatchContent(
        issue_id=compiled.issue_id, subject=compiled.subject,
        html=compiled.html, text=compiled.text,
        placeholders=PLACEHOLDERS, from_email=settings.sender_email,
        from_name=settings.sender_name, reply_to=settings.reply_to or None,
        unsubscribe_mailto=settings.unsubscribe_mailto, tag=compiled.tag)


class SendEngine(BatchOutcomes):
    """Sends one campaign with a provider from this process (see the module docstring)."""

    def __init__(self, db: Database, provider: Provider, compiled: CompiledIssue,
                 settings: Settings, clock: Clock, options: SendOptions | None = None, *,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, worker_id: str | None = None,
                 progress: Progress | None = None, stop: StopFlag | None = None,
                 share: int = 1, engine_factory: WorkerFactory | None = None) -> None:
        """``stop`` is shared by every process of one send (any of them may pause it all);
        ``share`` is how many processes split the hourly quota (the request rate is one
        budget for all, ``sending.pacing``); ``engine_factory`` builds the
        engine of each further process when ``options.processes`` asks for more than one."""
        self.db = db
        self.provider = provider
        self.compiled = compiled
        self.settings = settings
        self.clock = clock
        self.options = options or SendOptions()
        self.sleep = sleep
        self.monotonic = monotonic
        self.rng = rng or random.Random()
        self.worker_id = worker_id or new_worker_id()
        self.progress = progress
        self.engine_factory = engine_factory
        self.content = batch_content(compiled, settings)
        self.batch_size = planned_batch_size(provider, self.content, compiled, settings,
                                             self.options, clock.now())
        self.pacer = pacer_for(db, provider, self.options, share=share,
                               wall=lambda: clock.now().timestamp(), monotonic=monotonic,
                               sleep=sleep)
        self.redact = Redactor(settings)
        self._lock = threading.Lock()
        self._stop: StopFlag = stop if stop is not None else threading.Event()
        self._in_flight = 0
        self._consecutive_failures = 0
        self._database_failures = 0
        self._rate_limited_since: float | None = None
        self._last_progress = monotonic()
        self._error: BaseException | None = None
        self.report = WorkReport()

    # -- the run --

    def run(self, campaign: CampaignInfo) -> SendSummary:
        """Send what is left of ``campaign``: recover the batches of stopped workers, work
        (here, or in ``options.processes`` processes), then pause or finish the campaign."""
        if campaign.provider != self.provider.name:
            raise SendingError(
                f"issue {campaign.issue_id} is being sent with {campaign.provider}; it cannot "
                f"be continued with {self.provider.name} (idempotency keys and message ids "
                "belong to one provider): set DIGIWEETJES_PROVIDER back to "
                f"{campaign.provider}")
        started = self.monotonic()
        now = self.clock.now()
        if campaign.state == CampaignState.PAUSED.value:
            campaigns.set_state(self.db, campaign.id, CampaignState.SENDING, now)
        recovered = Ledger(self.db, campaign.id, self.worker_id).recover(
            now, lease=self.options.lease, key_window=self._key_window(),
            stopped=lambda worker: worker_is_dead(worker, self.worker_id))
        # Failures of an earlier run (the ones that paused it) do not count towards this one's.
        self.pacer.clear_failures()
        # Uncertain deliveries looked up before and after the work (``sending.reconcile``).
        report, reconciled = run_reconciled(
            lambda: self._work_everywhere(campaign), self.db, self.provider, campaign,
            self.clock, self.options, sleep=self.sleep, rng=self.rng)
        now = self.clock.now()
        if report.sent == 0 and report.refused_keys:
            self._requeue_refused(campaign, report, now)
        if report.paused_reason:
            campaigns.set_state(self.db, campaign.id, CampaignState.PAUSED, now,
                                report.paused_reason)
            done = False
        else:
            done = campaigns.finish_if_done(self.db, campaign.id, now)
        summary = SendSummary(
            issue_id=campaign.issue_id, provider=self.provider.name,
            counts=campaigns.counts(self.db, campaign.id),
            elapsed=self.monotonic() - started, recovered=recovered, done=done,
            reconciled=reconciled)
        summary.add(report)
        return summary

    def _work_everywhere(self, campaign: CampaignInfo) -> WorkReport:
        if self.options.processes > 1 and self.engine_factory is not None:
            return run_in_processes(
                self.engine_factory, campaign, self.options.processes, db=self.db,
                progress=self.progress, redact=self.redact)
        return self._work_with_progress(campaign)

    def _requeue_refused(self, campaign: CampaignInfo, report: WorkReport,
                         now: datetime) -> None:
        """Nothing was sent and whole requests were refused: put those batches back in the
        queue and pause, since the same command should send them once the cause is fixed."""
        requeued = campaigns.requeue_batches(self.db, campaign.id, report.refused_keys, now)
        if not requeued:
            return
        report.failed = max(0, report.failed - requeued)
        report.paused_reason = (
            f"niets verstuurd: {self.provider.name} weigerde elke aanvraag "
            f"({report.refused_reason}); de {requeued} berichten staan terug in de wachtrij"
            + RESUME_HINT)
        log.warning("%s: every request of the run was refused; %d deliveries requeued",
                    campaign.issue_id, requeued)

    def _work_with_progress(self, campaign: CampaignInfo) -> WorkReport:
        if self.progress:
            queued, sending = campaigns.open_counts(self.db, campaign.id)
            self.progress.start(total=campaign.audience_size,
                                done=campaign.audience_size - queued - sending)
        try:
            return self.work(campaign)
        finally:
            if self.progress:
                self.progress.stop()

    def work(self, campaign: CampaignInfo) -> WorkReport:
        """Run this process's worker threads until nothing is left to send or the send
        pauses; the first error of a worker stops them all and is raised here."""
        self.campaign = campaign
        tame_allocator()
        self.ledger = Ledger(self.db, campaign.id, self.worker_id)
        self.links = LinkSigner(self.settings, campaign.audience_frozen_at)
        self._last_progress = self.monotonic()
        count = max(1, self.options.concurrency)
        if count == 1:
            self._guarded_work()
        else:
            threads = [threading.Thread(target=self._guarded_work, name=f"sender-{i}",
                                        daemon=True) for i in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if self._error is not None:
            raise self._error
        return self.report

    def close(self) -> None:
        """Release the provider's connections and the database's."""
        self.provider.close()
        self.db.dispose()

    def _key_window(self) -> timedelta | None:
        window = self.provider.capabilities.idempotency_window
        if window is None or window <= self.options.key_margin:
            return None
        return window - self.options.key_margin

    def _guarded_work(self) -> None:
        try:
            self._work()
        except BaseException as exc:
            with self._lock:
                if self._error is None:
                    self._error = exc
            self._stop.set()

    def _stopped(self) -> bool:
        return self._stop.is_set()

    def _work(self) -> None:
        while not self._stopped():
            try:
                if not self._step():
                    return
            except StorageError as exc:
                # The claim or the look at the queue rolled back whole: nothing to undo.
                self._database_trouble("claiming a batch", exc)
            else:
                with self._lock:
                    self._database_failures = 0

    def _step(self) -> bool:
        """Claim one batch and send it, or wait for one; False when nothing is left to do."""
        with self._lock:
            self._in_flight += 1
        try:
            batch = self.ledger.claim(self.batch_size, self.clock.now())
            if batch is not None:
                self._progressed()
                self._send(batch)
                return True
        finally:
            with self._lock:
                self._in_flight -= 1
        return self._wait_for_work()

    def _wait_for_work(self) -> bool:
        """Nothing claimable now: wait for a retry to fall due; False when all is done."""
        queued, _sending, earliest = self.ledger.pending()
        if queued == 0:
            with self._lock:
                busy = self._in_flight > 0
            if not busy:
                return False
            # A peer thread may still put its batch back in the queue.
            self.sleep(0.01)
            return True
        if earliest is not None:
            wait = (earliest - self.clock.now()).total_seconds()
            if wait > 0:
                self._progressed()  # waiting for a due time is not being stuck
                self.sleep(min(wait, 1.0))
                return True
        # Rows are due now, yet none could be claimed: another worker is taking them. That
        # takes a moment, not minutes; if it does, stop looping and say so.
        stalled = self.monotonic() - self._last_progress
        if stalled > self.options.stall_seconds:
            self._pause(f"geen vooruitgang in {stalled:.0f} s: er staan {queued} berichten "
                        "klaar, maar geen enkele batch kon worden opgenomen")
            return False
        self.sleep(0.01)
        return True

    def _progressed(self) -> None:
        with self._lock:
            self._last_progress = self.monotonic()

    def _database_trouble(self, doing: str, exc: StorageError) -> None:
        """Wait with backoff after a database error; past the bound, stop the send."""
        with self._lock:
            self._database_failures += 1
            failures = self._database_failures
        if failures >= self.options.database_attempts:
            raise SendingError(
                f"verzenden gestopt: de databank gaf {failures} keer na elkaar een fout "
                f"({self.redact(str(exc))}). Niets is verloren: los de fout in de databank op "
                "en start hetzelfde commando opnieuw, dan gaat het verder waar het stopte."
            ) from exc
        log.warning("%s failed (attempt %d), retrying: %s", doing, failures,
                    self.redact(str(exc)))
        self.sleep(DATABASE_BACKOFF.delay(failures, None, self.rng))

    # -- one batch --

    def _recipient(self, row: ClaimedRow) -> Recipient:
        unsubscribe, preferences = self.links.links(row.email_hash)
        html_values, text_values = self.compiled.values_for(RecipientData(
            row.email, row.name, row.subregion, unsubscribe, preferences))
        # The header shows a name only where it can be one (no line breaks, no encoded words);
        # the greeting in the body still uses it, escaped.
        return Recipient(row.reference, row.email, display_name(row.name), html_values,
                         text_values, unsubscribe)

    def _send(self, batch: ClaimedBatch) -> None:
        if batch.suppressed:
            self._count(suppressed=batch.suppressed)
        if not batch.rows:
            return
        if batch.retry:
            self._count(retries=1)
        request = Batch(self.content, [self._recipient(r) for r in batch.rows],
                        idempotency_key=batch.key)
        slot = self._durable(self.pacer.wait_turn, len(batch.rows))
        self._count(requests=1)
        try:
            results = self.provider.send_batch(request)
        except ProviderBlockedError as exc:
            self._blocked(batch, exc)
        except TransientProviderError as exc:
            if exc.status_code == 429:
                self._rate_limited(batch, exc, slot)
            else:
                self._transient(batch, exc)
        except UncertainOutcomeError as exc:
            self._uncertain(batch, self.redact(str(exc)))
        except PermanentProviderError as exc:
            self._refused(batch, exc)
        except BatchTooLargeError as exc:
            self._too_large(batch, exc)
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
                self._rate_limited_since = None
            self._durable(self.pacer.accepted)

    def _durable(self, write: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run a ledger write, retrying while the database refuses: an outcome once known
        must be recorded, or a resumed run would have to call it uncertain."""
        while True:
            try:
                result = write(*args, **kwargs)
            except StorageError as exc:
                self._database_trouble("recording an outcome", exc)
            else:
                self._progressed()
                return result

    # -- shared counters --

    def _failure(self, reason: str) -> None:
        # Counted here and, where a rate applies, in the shared budget: the brake of the
        # whole send, whichever process or machine met the failures.
        shared = self._durable(self.pacer.failed)
        with self._lock:
            self._consecutive_failures += 1
            brake = max(shared, self._consecutive_failures) >= self.options.brake_after
        if brake:
            self._pause(f"{self.options.brake_after} aanvragen na elkaar mislukt; de laatste: "
                        f"{reason}")

    def _pause(self, reason: str, *, hint: bool = True) -> None:
        with self._lock:
            if self.report.paused_reason is None:
                self.report.paused_reason = reason + \
                    (" — start `digiweetjes send` opnieuw om verder te gaan" if hint else "")
        self._stop.set()

    def _count(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self.report, name, getattr(self.report, name) + amount)
        done = sum(amounts.get(k, 0) for k in ("sent", "failed", "uncertain", "suppressed"))
        if done and self.progress:
            self.progress.advance(done, sent=amounts.get("sent", 0))

