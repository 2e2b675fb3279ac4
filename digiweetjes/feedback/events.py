"""What a provider told us, in one shape for all six, and what applying it did."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from digiweetjes.models import WebhookEventKind

#: How much of a provider's reason is kept (SMTP answers can run long).
DETAIL_LENGTH = 500
_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class Outcome(StrEnum):
    """What one stored event changed (``webhook_events.outcome``)."""

    BOUNCED = "bounced"              # a subscriber taken off the list: hard bounce
    COMPLAINED = "complained"        # … spam complaint
    UNSUBSCRIBED = "unsubscribed"    # … the provider's unsubscribe
    SUPPRESSED = "suppressed"        # an address we hold no subscriber for, suppressed by hash
    COUNTED = "counted"              # a soft bounce, under the limit
    UNCHANGED = "unchanged"          # already off the list, or already suppressed
    IGNORED = "ignored"              # delivered, deferred, opened…, or no usable address


@dataclass(frozen=True)
class ProviderEvent:
    """One event of one provider's webhook, provider-neutral (the web layer parses into it).

    ``event_key`` identifies the event at its provider (its own id, or a hash of the fields
    that identify it), so a repeated delivery of the same event is recognised. ``email`` is the
    recipient's address as the provider gives it: it is hashed, never stored.
    """

    provider: str
    event_key: str
    kind: WebhookEventKind
    #: The provider's own name of the event ("bounce", "failed", "SpamComplaint"…).
    provider_event: str
    email: str | None
    #: Our per-recipient reference the provider echoed (``deliveries.reference``), if any.
    reference: str | None = None
    #: The provider's message id, as ``deliveries.message_id`` holds it.
    message_id: str | None = None
    occurred_at: datetime | None = None
    #: The provider's reason (an SMTP answer…); addresses are removed before it is stored.
    detail: str | None = None


@dataclass
class FeedbackReport:
    """What one call of ``apply_events`` did."""

    received: int = 0
    #: Events stored by this call (the rest had been stored before: repeats).
    new: int = 0
    repeated: int = 0
    #: New events that found their delivery (by reference, else message id).
    linked: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line for the provider's log (machine-facing, English)."""
        done = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items()))
        return (f"{self.received} events: {self.new} new, {self.repeated} repeated, "
                f"{self.linked} linked to a delivery" + (f"; {done}" if done else ""))


def clean_detail(text: object) -> str | None:
    """A provider's reason fit to store: no address in it, no control characters, cut short."""
    if text is None:
        return None
    cleaned = _CONTROL.sub(" ", _ADDRESS.sub("[adres]", str(text))).strip()
    if len(cleaned) > DETAIL_LENGTH:
        cleaned = cleaned[:DETAIL_LENGTH - 1] + "…"
    return cleaned or None
