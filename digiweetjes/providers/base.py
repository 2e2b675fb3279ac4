"""The provider protocol: how the sending engine hands a batch of mail to a mail service.

A batch is one compiled content (subject, HTML and text with per-recipient placeholders, parsed
once) and up to ``capabilities.max_batch`` recipients, each with the values of those
placeholders. An adapter either lets the provider substitute server-side (one HTML body per
request, in the provider's own variable syntax) or personalizes client-side, one message per
recipient; its ``Capabilities`` say which, and ``batch_size_for`` turns them and the
provider's documented ``ByteLimits`` into a batch size.

Outcomes:
- ``send_batch`` returns one ``RecipientResult`` per recipient, in order, for a request the
  provider accepted (some providers report per-recipient failures inside an accepted batch);
- it raises ``TransientProviderError`` when the request was certainly not accepted and may be
  retried (connect error, 429, 5xx, a timeout before the request was sent);
- ``PermanentProviderError`` when the whole request was refused and retrying will not help;
- ``BatchTooLargeError`` when the request would exceed a documented byte limit and so was not
  sent (a recipient who alone exceeds one is a ``failed`` result instead): ``fits`` recipients
  would go in one request;
- ``UncertainOutcomeError`` when the request may have been accepted (a timeout or a dropped
  connection after the request left): the engine marks those recipients ``uncertain``.

Providers that honour an idempotency key (``capabilities.idempotency`` not ``None``) receive the
batch's key and may be retried with the same key within its window without sending twice.

Transactional mail (the double opt-in confirmation, "je bent al ingeschreven") is not list mail:
``send_transactional`` sends one message through the provider's single-message path (Postmark's
transactional stream, not the broadcast one), without ``List-Unsubscribe`` /
``List-Unsubscribe-Post`` (RFC 8058 is for list mail) but with the delivery reference, and with
the same outcomes as ``send_batch``: a ``RecipientResult`` for an accepted request (``failed``
where the provider refused that message inside it), or one of the three provider errors.
``recipient.unsubscribe_url`` is not read on this path (it may be empty).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar, Literal, Protocol, runtime_checkable

from digiweetjes.render.placeholders import (
    PLACEHOLDER_CLOSE,
    PLACEHOLDER_OPEN,
    FillableTemplate,
    placeholder,
)

__all__ = [
    "BYTE_MARGIN",
    "PLACEHOLDER_CLOSE",
    "PLACEHOLDER_OPEN",
    "Batch",
    "BatchContent",
    "BodySample",
    "ByteLimits",
    "Capabilities",
    "IdempotencySupport",
    "MeasurableProvider",
    "Provider",
    "Recipient",
    "RecipientResult",
    "batch_size_for",
    "placeholder",
]


@dataclass(frozen=True)
class IdempotencySupport:
    """Where a provider takes an idempotency key and how long it honours a reused one."""

    #: ``"header"`` (an HTTP request header) or ``"body"`` (a field of the JSON body).
    carrier: Literal["header", "body"]
    #: The header name, or the field's path in the body.
    field: str
    #: How long a reused key is recognised as the same request.
    window: timedelta


@dataclass(frozen=True)
class ByteLimits:
    """A provider's documented byte ceilings (None where none is documented).

    Each adapter checks its finished request against these before it leaves (see
    ``HttpProvider.send_batch``): a limit one recipient alone exceeds fails that recipient; a
    limit the batch together exceeds refuses the batch locally (``BatchTooLargeError``), and the
    engine sends it again in smaller batches. ``batch_size_for`` sizes batches to stay inside.
    """

    #: The whole request body as sent (JSON or multipart).
    request: int | None = None
    #: One message: one recipient's copy (client-side), or the one message of a request.
    message: int | None = None
    #: One recipient's personalization data (Brevo version ``params``, SendGrid substitutions
    #: and ``custom_args``), as JSON.
    recipient_data: int | None = None
    #: The personalization data of every recipient of one request together (Brevo's params).
    recipient_data_total: int | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a provider can take, as data: the engine sizes and retries batches from this."""

    #: One body a request, filled in per recipient by the provider (else one body a message).
    server_side_personalization: bool
    #: Most recipients one ``send_batch`` call may carry (the provider's documented maximum).
    max_batch: int
    #: Documented (or approximate) byte ceilings, each with its source at the adapter.
    byte_limits: ByteLimits = field(default_factory=ByteLimits)
    #: How the provider honours an idempotency key, or None where it has none.
    idempotency: IdempotencySupport | None = None
    #: The provider's documented default request rate, or None where none is published.
    default_requests_per_second: float | None = None

    @property
    def max_request_bytes(self) -> int | None:
        """The ceiling of one request body, or None where none is known."""
        return self.byte_limits.request

    @property
    def idempotency_window(self) -> timedelta | None:
        """How long a reused idempotency key is honoured, or None."""
        return None if self.idempotency is None else self.idempotency.window


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
    """The content shared by every recipient of a batch (placeholders not yet filled).

    ``html`` and ``text`` are parsed once (a compiled issue's own templates): adapters fill or
    re-render them, never parse them again.
    """

    issue_id: str
    subject: str
    html: FillableTemplate
    text: FillableTemplate
    # Placeholder markers in the sources are ``PLACEHOLDER_OPEN + name + PLACEHOLDER_CLOSE``.
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
    capabilities: ClassVar[Capabilities]

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """Send one batch; see the module docstring for the outcomes."""
        ...

    def send_transactional(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        """Send one service mail on the single-message path, without List-Unsubscribe."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


#: Allowance for a message's headers, addresses and JSON around its bodies.
_MESSAGE_OVERHEAD = 2048
#: Share of a documented byte limit a batch is planned to fill: what the estimate did not
#: foresee (a longer name, a value with more to escape) fits in the rest.
BYTE_MARGIN = 0.9


@dataclass(frozen=True)
class BodySample:
    """What a request weighs, measured on sample recipients (``MeasurableProvider.measure``)."""

    #: Bytes of the request body without any recipient (bodies, sender, subject...).
    fixed: int
    #: Bytes one more recipient adds to the request body.
    per_recipient: int
    #: Bytes of one recipient's personalization data (0 where the provider has none).
    data: int = 0


@runtime_checkable
class MeasurableProvider(Protocol):
    """A provider that can weigh the request it would send (the HTTP adapters)."""

    def measure(self, content: BatchContent, recipients: Sequence[Recipient]) -> BodySample:
        """The request for two sample ``recipients`` (distinct addresses), weighed."""
        ...


def batch_size_for(capabilities: Capabilities, content: BatchContent,
                   requested: int | None = None, *, byte_budget: int | None = None,
                   sample: BodySample | None = None) -> int:
    """Recipients a batch: ``requested`` (default the maximum), capped by the provider.

    With a ``sample`` (the request measured on the longest recipients the engine can make), the
    batch also stays within ``BYTE_MARGIN`` of the provider's request and cumulative
    personalization limits. Where every message carries its own full body (client-side
    personalization), it is also sized to our own ``byte_budget``, which keeps requests in
    flight, and memory, bounded (and without a sample, to the request limit by an estimate).
    """
    size = min(requested or capabilities.max_batch, capabilities.max_batch)
    limits = capabilities.byte_limits
    ceilings: list[tuple[float, int]] = []  # (bytes available, bytes a recipient)
    if sample is not None:
        if limits.request is not None:
            ceilings.append((limits.request * BYTE_MARGIN - sample.fixed, sample.per_recipient))
        if limits.recipient_data_total is not None:
            ceilings.append((limits.recipient_data_total * BYTE_MARGIN, sample.data))
    if not capabilities.server_side_personalization:
        per_message = sample.per_recipient if sample is not None else \
            len(content.html.source) + len(content.text.source) + _MESSAGE_OVERHEAD
        if sample is None and limits.request is not None:
            ceilings.append((limits.request, per_message))
        if byte_budget is not None:
            ceilings.append((byte_budget, per_message))
    for available, per_recipient in ceilings:
        if per_recipient > 0:
            size = min(size, int(available // per_recipient))
    return max(1, size)
