"""What a send did: the workers' counts (``WorkReport``), the campaign after it (``SendSummary``).

Plain data: the CLI, the demo and the benchmark format it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WorkReport:
    """What the workers of one process did; reports of several processes add up."""

    requests: int = 0
    retries: int = 0
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    suppressed: int = 0
    #: Why the send paused itself (the brake, an account refusal, no progress), if it did.
    paused_reason: str | None = None
    #: Keys of the batches whose whole request was refused (not for their account), and the
    #: first such refusal: if the run sent nothing, they go back to the queue.
    refused_keys: list[str] = field(default_factory=list)
    refused_reason: str | None = None

    def add(self, other: WorkReport) -> None:
        """Add another process's counts; the first pause (and refusal) reason wins."""
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.paused_reason = self.paused_reason or other.paused_reason
        self.refused_keys.extend(other.refused_keys)
        self.refused_reason = self.refused_reason or other.refused_reason


COUNTERS = ("requests", "retries", "sent", "failed", "uncertain", "suppressed")


@dataclass
class SendSummary(WorkReport):
    """One run of a send, and where its campaign stands after it."""

    issue_id: str = ""
    provider: str = ""
    #: Deliveries by state after the run (every state present).
    counts: dict[str, int] | None = None
    elapsed: float = 0.0
    #: Batches of stopped workers: (resent under their idempotency key, marked uncertain).
    recovered: tuple[int, int] = (0, 0)
    #: Uncertain deliveries reconciled (``sending.reconcile``): (found sent, back in the
    #: queue, still uncertain after the last look).
    reconciled: tuple[int, int, int] = (0, 0, 0)
    done: bool = False

    @property
    def rate(self) -> float:
        """Messages sent a second in this run."""
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0
