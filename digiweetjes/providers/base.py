"""The provider protocol: how the sending engine hands a batch of mail to a mail service.

A batch is one compiled content (subject, HTML and text with per-recipient placeholders) and up
to ``max_batch`` recipients, each with the values of those placeholders. An adapter either lets
the provider substitute server-side (one HTML body per request, in the provider's own variable
syntax) or personalizes client-side, one message per recipient.

Outcomes:
- ``send_batch`` returns one ``RecipientResult`` per recipient, in order, for a request the
  provider accepted (some providers report per-recipient failures inside an accepted batch);
- it raises ``TransientProviderError`` when the request was certainly not accepted and may be
  retried (connect error, 429, 5xx, a timeout before the request was sent);
- ``PermanentProviderError`` when the whole request was refused and retrying will not help;
- ``UncertainOutcomeError`` when the request may have been accepted (a timeout or a dropped
  connection after the request left): the engine marks those recipients ``uncertain``.

Providers that honour an idempotency key (``idempotency_window`` not ``None``) receive the
batch's key and may be retried with the same key within that window without sending twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, Protocol, runtime_checkable

from digiweetjes.placeholders import PLACEHOLDER_CLOSE, PLACEHOLDER_OPEN, placeholder

__all__ = [
    "PLACEHOLDER_CLOSE",
    "PLACEHOLDER_OPEN",
    "Batch",
    "BatchContent",
    "Provider",
    "Recipient",
    "RecipientResult",
    "placeholder",
]


@dataclass(frozen=True)
class Recipient:
    """One addressee of a batch and the values of the content's placeholders for them.

    ``html_values`` are already HTML-escaped for the HTML part; ``text_values`` are plain.
    ``reference`` is the engine's own id for the delivery (echoed back in the result).
    """

    reference: str
    email: str
    name: str | None
    html_values: Mapping[str, str]
    text_values: Mapping[str, str]
    unsubscribe_url: str


@dataclass(frozen=True)
class BatchContent:
    """The content shared by every recipient of a batch (placeholders not yet filled)."""

    issue_id: str
    subject: str
    html_template: str
    text_template: str
    # Placeholder markers in the templates are ``PLACEHOLDER_OPEN + name + PLACEHOLDER_CLOSE``.
    placeholders: Sequence[str]
    from_email: str
    from_name: str
    reply_to: str | None
    unsubscribe_mailto: str
    tag: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    content: BatchContent
    recipients: Sequence[Recipient]
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RecipientResult:
    reference: str
    status: Literal["sent", "failed"]
    message_id: str | None = None
    reason: str | None = None


@runtime_checkable
class Provider(Protocol):
    """A mail service the engine can hand batches to."""

    name: str
    #: Most recipients one ``send_batch`` call may carry (the provider's documented maximum).
    max_batch: int
    #: How long a reused idempotency key is honoured, or None where the provider has none.
    idempotency_window: timedelta | None

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """Send one batch; see the module docstring for the outcomes."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
