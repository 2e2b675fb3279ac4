"""A finished request weighed against the provider's ``ByteLimits`` before it leaves.

An adapter prepares its request (``PreparedRequest``: path, encoded body, and how to measure each
recipient's share of it); ``check`` refuses it locally when it would exceed a documented limit,
so that the provider never answers HTTP 400/413 for a whole batch, which would fail every
recipient in it for good:

- a recipient whose own part exceeds a per-recipient limit (its message, its personalization
  data), or who alone exceeds a batch limit, is named in ``OversizedRecipients``: the adapter
  fails that recipient and sends the others;
- a batch whose recipients together exceed a batch limit (the request body, Brevo's cumulative
  params) raises ``BatchTooLargeError`` with how many of them would fit: nothing was sent, and
  the engine sends them again in batches of that size.

Per-recipient sizes are measured only when the whole body is over the limit in question (a part
is never larger than the whole), so a batch well inside its limits costs one ``len``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from digiweetjes.errors import BatchTooLargeError, UncertainOutcomeError
from digiweetjes.providers.base import (
    BYTE_MARGIN,
    BatchContent,
    BodySample,
    ByteLimits,
    Recipient,
    RecipientResult,
)

JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class PreparedRequest:
    """One request as it will leave: its path, body and headers, and its recipients' shares."""

    path: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: JSON_HEADERS)
    #: Per recipient, in order: bytes of its personalization data as the limit counts them.
    recipient_data: Callable[[], Sequence[int]] | None = None
    #: Per recipient, in order: bytes of its own message.
    messages: Callable[[], Sequence[int]] | None = None


class OversizedRecipients(Exception):
    """Recipients that cannot go in any request: position in the batch → reason."""

    def __init__(self, reasons: dict[int, str]) -> None:
        super().__init__(f"{len(reasons)} recipients over a byte limit")
        self.reasons = reasons


def check(provider: str, limits: ByteLimits, request: PreparedRequest, count: int) -> None:
    """Return when ``request`` (for ``count`` recipients) is inside ``limits``, else raise
    ``OversizedRecipients`` or ``BatchTooLargeError`` (see the module docstring)."""
    size = len(request.body)
    data_sizes: Sequence[int] | None = None
    oversized: dict[int, str] = {}
    for kind, limit in (("message", limits.message), ("personalization data",
                                                      limits.recipient_data)):
        measure = request.messages if kind == "message" else request.recipient_data
        if measure is None or limit is None or size <= limit:
            continue
        sizes = measure()
        if kind != "message":
            data_sizes = sizes
        for index, part in enumerate(sizes):
            if part > limit:
                oversized.setdefault(index, f"its {kind} is {part} bytes, over {provider}'s "
                                            f"documented limit of {limit}")
    if oversized:
        raise OversizedRecipients(oversized)
    over: list[tuple[str, int, int]] = []
    if limits.request is not None and size > limits.request:
        over.append(("request body", size, limits.request))
    total_limit = limits.recipient_data_total
    if total_limit is not None and request.recipient_data is not None and size > total_limit:
        total = sum(data_sizes if data_sizes is not None else request.recipient_data())
        if total > total_limit:
            over.append(("personalization data", total, total_limit))
    if not over:
        return
    what, measured, limit = over[0]
    if count <= 1:
        raise OversizedRecipients({0: f"alone its {what} is {measured} bytes, over "
                                      f"{provider}'s documented limit of {limit}"})
    ratio = min(lim / got for _what, got, lim in over)
    fits = max(1, min(count - 1, math.floor(count * ratio * BYTE_MARGIN)))
    raise BatchTooLargeError(
        f"{provider}: the {what} of {count} recipients would be {measured} bytes, over the "
        f"documented limit of {limit}; nothing was sent ({fits} recipients a request fit)",
        fits=fits)


def send_fitting(send: Callable[[list[Recipient]], list[RecipientResult]],
                 recipients: Sequence[Recipient],
                 fail: Callable[[Recipient, str], RecipientResult],
                 provider: str) -> list[RecipientResult]:
    """``send(recipients)``, those refused by the byte check (``OversizedRecipients``) failed
    and the rest sent without them: one result per recipient, in order."""
    remaining, positions = list(recipients), list(range(len(recipients)))
    results: dict[int, RecipientResult] = {}
    while remaining:
        try:
            sent = send(remaining)
        except OversizedRecipients as exc:
            for index in sorted(exc.reasons, reverse=True):
                results[positions[index]] = fail(remaining[index], exc.reasons[index])
                del remaining[index], positions[index]
            continue
        if len(sent) != len(remaining):
            raise UncertainOutcomeError(
                f"{provider} answered {len(sent)} results for {len(remaining)} recipients")
        results.update(zip(positions, sent, strict=True))
        break
    return [results[i] for i in range(len(recipients))]


def weigh(prepare: Callable[[BatchContent, Sequence[Recipient], str | None], PreparedRequest],
          content: BatchContent, recipients: Sequence[Recipient]) -> BodySample:
    """The request ``prepare`` makes for one and for two sample recipients, weighed."""
    # A key as long as the engine's, so that the fixed part counts one where it is sent.
    key = "0" * 32
    one = prepare(content, recipients[:1], key)
    two = prepare(content, recipients[:2], key)
    per_recipient = len(two.body) - len(one.body)
    data = max(one.recipient_data()) if one.recipient_data is not None else 0
    return BodySample(fixed=len(one.body) - per_recipient, per_recipient=per_recipient,
                      data=data)
