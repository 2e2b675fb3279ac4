"""Capabilities as data, and the batch size the engine derives from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from digiweetjes.providers.base import (
    BYTE_MARGIN,
    BatchContent,
    BodySample,
    ByteLimits,
    Capabilities,
    IdempotencySupport,
    batch_size_for,
)
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.render.placeholders import FillableTemplate
from tests.providers_support import FACTORIES, content

NAMES = sorted(FACTORIES)


def _sized(body_chars: int) -> BatchContent:
    return replace(content(), html=FillableTemplate.parse("x" * body_chars),
                   text=FillableTemplate.parse(""))


def test_server_side_batches_are_sized_by_count_only() -> None:
    caps = Capabilities(server_side_personalization=True, max_batch=1000,
                        byte_limits=ByteLimits(request=10))
    assert batch_size_for(caps, _sized(100_000), None, byte_budget=1000) == 1000
    assert batch_size_for(caps, _sized(100_000), 250) == 250
    assert batch_size_for(caps, _sized(100_000), 5000) == 1000


def test_client_side_batches_are_sized_by_the_smaller_byte_ceiling() -> None:
    caps = Capabilities(server_side_personalization=False, max_batch=500,
                        byte_limits=ByteLimits(request=50_000_000))
    per_message = 97_952 + 2048
    assert batch_size_for(caps, _sized(97_952), None, byte_budget=3_000_000) == \
        3_000_000 // per_message
    assert batch_size_for(caps, _sized(97_952), None) == 500
    tight = replace(caps, byte_limits=ByteLimits(request=1_000_000))
    assert batch_size_for(tight, _sized(97_952), None, byte_budget=3_000_000) == 10
    assert batch_size_for(tight, _sized(5_000_000), None) == 1
    assert batch_size_for(replace(caps, byte_limits=ByteLimits()), _sized(97_952), 7) == 7


def test_a_measured_sample_caps_batches_within_the_margin_of_each_byte_limit() -> None:
    brevo_like = Capabilities(server_side_personalization=True, max_batch=1000,
                              byte_limits=ByteLimits(recipient_data_total=1_000_000))
    sample = BodySample(fixed=50_000, per_recipient=2_400, data=1_500)
    assert batch_size_for(brevo_like, content(), None, sample=sample) == \
        int(1_000_000 * BYTE_MARGIN // 1_500) == 600
    assert batch_size_for(brevo_like, content(), 100, sample=sample) == 100
    # The request limit counts the fixed part of the body once.
    by_request = replace(brevo_like, byte_limits=ByteLimits(request=1_000_000))
    assert batch_size_for(by_request, content(), None, sample=sample) == \
        int((1_000_000 * BYTE_MARGIN - 50_000) // 2_400) == 354
    # Client-side: the measured message replaces the estimate, the engine budget still holds.
    client = Capabilities(server_side_personalization=False, max_batch=500,
                          byte_limits=ByteLimits(request=50_000_000))
    per_message = BodySample(fixed=2, per_recipient=60_000)
    assert batch_size_for(client, content(), None, byte_budget=3_000_000,
                          sample=per_message) == 50
    assert batch_size_for(client, content(), None, sample=per_message) == 500
    # Never below one recipient, however large one is.
    assert batch_size_for(brevo_like, content(), None, sample=BodySample(0, 1, 10**9)) == 1


@pytest.mark.parametrize("name", NAMES)
def test_every_adapter_declares_its_capabilities(name: str) -> None:
    caps = FACTORIES[name]().capabilities
    assert caps.server_side_personalization == (name in ("brevo", "mailgun", "mailjet",
                                                         "sendgrid"))
    assert caps.max_request_bytes is None or caps.max_request_bytes >= 1_000_000
    limits = caps.byte_limits
    assert any(v is not None for v in (limits.request, limits.message,
                                       limits.recipient_data_total))
    if name == "brevo":
        assert limits == ByteLimits(recipient_data=100_000, recipient_data_total=1_000_000)
    if name == "sendgrid":
        assert limits == ByteLimits(request=30_000_000, recipient_data=10_000)
    if name == "brevo":
        assert caps.idempotency == IdempotencySupport(
            "body", "headers.idempotencyKey", timedelta(minutes=30))
    elif name == "resend":
        assert caps.idempotency == IdempotencySupport(
            "header", "Idempotency-Key", timedelta(hours=24))
        assert caps.default_requests_per_second == 2.0
    else:
        assert caps.idempotency is None and caps.idempotency_window is None


def test_outbox_is_sized_by_the_engine_budget() -> None:
    caps = OutboxProvider.capabilities
    assert not caps.server_side_personalization and caps.max_request_bytes is None
    assert batch_size_for(caps, _sized(97_952), None, byte_budget=3_000_000) == 30
