"""What the engine does with a batch the provider did not accept: the four outcomes.

Mixed into ``SendEngine`` (``sending.engine``), whose ledger, options, counters and pause these
use. A transient error requeues the batch under its key with backoff; after ``max_attempts`` it
goes back to the queue and the send pauses (never accepted, so never the recipients' fault). A
blocked provider (``ProviderBlockedError``: a full outbox disk) requeues and pauses at once. An
uncertain outcome is replayed under the key while the provider honours it, else ``uncertain``.
A refusal of the account pauses with the batch queued; any other refusal fails the batch, and
its key is kept so that a run which sent nothing can put it back (``SendEngine.run``). A batch
the adapter refused itself, before it left, for a documented byte limit
(``BatchTooLargeError``) goes back to the queue as fresh rows, and this engine's batches shrink
to what fits.
A 429 is none of these: the provider asks for a slower pace, so the pace is cut
(``sending.pacing``) and the batch waits for the retry time, counting neither an attempt nor
towards the brake; only when nothing but 429s came back for ``rate_limited_seconds`` (half an
hour by default) does the send pause, since by then the account's limit is not a matter of pace.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from digiweetjes.errors import (
    BatchTooLargeError,
    PermanentProviderError,
    ProviderBlockedError,
    TransientProviderError,
)
from digiweetjes.sending.ledger import ClaimedBatch

if TYPE_CHECKING:
    import random
    import threading
    from collections.abc import Callable

    from digiweetjes.clock import Clock
    from digiweetjes.sending.campaigns import CampaignInfo
    from digiweetjes.sending.ledger import Ledger
    from digiweetjes.sending.options import SendOptions
    from digiweetjes.sending.pacing import Pacer
    from digiweetjes.sending.redaction import Redactor
    from digiweetjes.sending.summary import WorkReport

log = logging.getLogger("digiweetjes.sending")

#: Refusals about the account, not the batch: every other batch would be refused the same way.
ACCOUNT_STATUSES = frozenset({401, 402, 403})
#: How a pause in Dutch ends: what to do.
RESUME_HINT = "; los de oorzaak op en start hetzelfde commando opnieuw om verder te gaan"


class BatchOutcomes:
    """The outcome handlers of ``SendEngine`` (see the module docstring)."""

    if TYPE_CHECKING:
        clock: Clock
        options: SendOptions
        rng: random.Random
        redact: Redactor
        ledger: Ledger
        campaign: CampaignInfo
        report: WorkReport
        batch_size: int
        _lock: threading.Lock
        _durable: Callable[..., Any]
        monotonic: Callable[[], float]
        pacer: Pacer
        _rate_limited_since: float | None

        def _key_window(self) -> timedelta | None: ...
        def _failure(self, reason: str) -> None: ...
        def _pause(self, reason: str, *, hint: bool = True) -> None: ...
        def _count(self, **amounts: int) -> None: ...

    def _transient(self, batch: ClaimedBatch, exc: TransientProviderError) -> None:
        now = self.clock.now()
        reason = self.redact(str(exc))
        attempt = batch.attempts + 1
        if attempt >= self.options.max_attempts:
            # Never accepted, so never the recipients' fault: back to the queue (a fresh count
            # of attempts for the next run) and pause, rather than fail them for good.
            self._durable(self.ledger.requeue, batch, now, now, reason, reset_attempts=True)
            log.warning("%s: %s (attempt %d): pausing", self.campaign.issue_id, reason, attempt)
            self._pause(f"{attempt} pogingen na elkaar mislukt ({reason}); de berichten staan "
                        "terug in de wachtrij" + RESUME_HINT, hint=False)
            return
        delay = self.options.backoff.delay(attempt, exc.retry_after, self.rng)
        self._durable(self.ledger.requeue, batch, now, now + timedelta(seconds=delay), reason)
        log.warning("%s: %s (attempt %d)", self.campaign.issue_id, reason, attempt)
        self._failure(reason)

    def _too_large(self, batch: ClaimedBatch, exc: BatchTooLargeError) -> None:
        """Nothing left: later batches take at most ``exc.fits`` recipients, and these rows
        go back to the queue to be claimed in such batches. A retry batch keeps its recipients
        under its key (its first request may have been delivered), so it cannot be split: it
        becomes ``uncertain`` rather than go out over the limit."""
        now = self.clock.now()
        reason = self.redact(str(exc))
        with self._lock:
            self.batch_size = max(1, min(self.batch_size, exc.fits))
        self._count(requests=-1)  # counted as it was about to leave; it did not
        if batch.retry:
            moved = self._durable(self.ledger.uncertain, batch, now, reason)
            self._count(uncertain=moved)
        else:
            self._durable(self.ledger.release, batch, now)
        log.warning("%s: %s; batches of at most %d from now on", self.campaign.issue_id,
                    reason, self.batch_size)

    def _rate_limited(self, batch: ClaimedBatch, exc: TransientProviderError,
                      sent_at: float) -> None:
        now = self.clock.now()
        reason = self.redact(str(exc))
        self._durable(self.pacer.rate_limited, sent_at, exc.retry_after)
        with self._lock:
            if self._rate_limited_since is None:
                self._rate_limited_since = self.monotonic()
            refused_for = self.monotonic() - self._rate_limited_since
        if refused_for >= self.options.rate_limited_seconds:
            self._durable(self.ledger.requeue, batch, now, now, reason, count_attempt=False)
            log.warning("%s: only 429s for %.0f s: pausing", self.campaign.issue_id, refused_for)
            self._pause(f"de provider weigerde {refused_for / 60:.0f} minuten lang elke aanvraag "
                        f"als te veel ({reason}); de berichten staan terug in de wachtrij"
                        + RESUME_HINT, hint=False)
            return
        due = now + timedelta(seconds=exc.retry_after or 0.0)
        self._durable(self.ledger.requeue, batch, now, due, reason, count_attempt=False)
        log.info("%s: %s: slowing down", self.campaign.issue_id, reason)

    def _blocked(self, batch: ClaimedBatch, exc: ProviderBlockedError) -> None:
        """No message can leave until someone fixes the cause: requeue and pause at once."""
        now = self.clock.now()
        reason = self.redact(str(exc))
        self._durable(self.ledger.requeue, batch, now, now, reason, count_attempt=False)
        log.warning("%s: %s: pausing", self.campaign.issue_id, reason)
        self._pause(f"{reason}; geen enkel bericht kan weg tot dat opgelost is, de berichten "
                    "staan terug in de wachtrij" + RESUME_HINT, hint=False)

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
            self._pause(f"de provider weigert het account: {reason}")
            return
        moved = self._durable(self.ledger.fail, batch, now, reason)
        self._count(failed=moved)
        with self._lock:
            # Kept for the end of the run: if nothing was sent, these go back to the queue.
            self.report.refused_keys.append(batch.key)
            self.report.refused_reason = self.report.refused_reason or reason
        log.warning("%s: %s", self.campaign.issue_id, reason)
        self._failure(reason)
