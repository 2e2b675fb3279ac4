"""How hard to push a provider: the ``DIGIWEETJES_SEND_*`` settings (read in ``config.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from digiweetjes.sending.backoff import Backoff


@dataclass(frozen=True)
class SendOptions:
    """How hard to push a provider (``Settings.send``, from ``DIGIWEETJES_SEND_*``)."""

    concurrency: int = 4
    #: Sending processes, each with ``concurrency`` requests in flight (needs a provider
    #: factory: every process opens its own connections).
    processes: int = 1
    #: Recipients a request; None: the provider's maximum.
    batch_size: int | None = None
    #: Most provider requests a second for the whole send (every process and machine):
    #: None, the adapter's documented default (``Capabilities.default_requests_per_second``);
    #: 0, no limit.
    requests_per_second: float | None = None
    messages_per_hour: int | None = None
    brake_after: int = 10
    max_attempts: int = 8
    #: Seconds of nothing but 429s (no request accepted) before the send pauses; 429s alone
    #: count neither as attempts nor towards the brake.
    rate_limited_seconds: float = 1800.0
    backoff: Backoff = field(default_factory=Backoff)
    #: A batch held longer than this by a worker on another machine counts as abandoned.
    lease: timedelta = timedelta(minutes=10)
    #: Resend under an idempotency key only while this much of its lifetime is left.
    key_margin: timedelta = timedelta(minutes=5)
    #: Rough ceiling of one request's body where every message carries its own full body.
    max_request_bytes: int = 3_000_000
    #: Consecutive database errors (a claim, a record) tolerated before the send stops.
    database_attempts: int = 35
    #: Seconds without a batch claimed or an outcome recorded, while work is due, before the
    #: send pauses itself rather than looping on.
    stall_seconds: float = 300.0
    #: Seconds an uncertain delivery must have been uncertain before "not found at the
    #: provider" counts as "not accepted" (search indexes lag; ``sending.reconcile``).
    reconcile_settle_seconds: float = 120.0
