"""How many recipients a batch: the provider's count limit and its documented byte limits.

Every value the engine fills in has a bounded shape: an address is at most 254 characters, a
name at most ``NAME_MAX``, the links are signed tokens of one length (a fixed-width prefix of
the address hash and the freeze time), the Digibank block is one of the compiled blocks, the
reference of one length.
The adapter builds and weighs the request for two recipients of the longest such values
(``MeasurableProvider.measure``), and ``batch_size_for`` keeps batches within ``BYTE_MARGIN`` of
the provider's request and cumulative personalization limits.

The names are taken plain: a name full of characters that HTML escapes weighs up to six times
as much. A batch that still would exceed a limit is refused by the adapter's own check before it
leaves (``providers.limits``), and the engine continues in smaller batches (``SendEngine``,
``BatchTooLargeError``), so no request leaves above a declared limit either way.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from digiweetjes.config import Settings
from digiweetjes.providers.base import (
    BatchContent,
    MeasurableProvider,
    Provider,
    Recipient,
    batch_size_for,
)
from digiweetjes.providers.messages import display_name
from digiweetjes.render import CompiledIssue, RecipientData
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.recipient_links import LinkSigner
from digiweetjes.subscribers.cleaning import NAME_MAX

#: The longest address SMTP allows (RFC 5321: a 254-character path without its brackets).
LONGEST_EMAIL = 254
#: A delivery reference has one length (``sending.references``).
SAMPLE_REFERENCE = "f" * 31


def longest_recipients(compiled: CompiledIssue, settings: Settings,
                       issued_at: datetime) -> list[Recipient]:
    """Two recipients (distinct addresses) with the longest values the engine can give."""
    links = LinkSigner(settings, issued_at)
    subregion = max(compiled.digibank_html, key=lambda block: len(
        compiled.digibank_html[block]) + len(compiled.digibank_text.get(block, "")))
    recipients = []
    for first in "ab":
        domain = "d" * (LONGEST_EMAIL - 64 - 1 - 3) + ".be"
        email = first * 64 + "@" + domain
        name = (first.upper() + "n" * NAME_MAX)[:NAME_MAX]
        email_hash = hashlib.sha256(email.encode()).hexdigest()
        unsubscribe, preferences = links.links(email_hash)
        html_values, text_values = compiled.values_for(RecipientData(
            email, name, subregion, unsubscribe, preferences))
        recipients.append(Recipient(SAMPLE_REFERENCE, email, display_name(name), html_values,
                                    text_values, unsubscribe))
    return recipients


def planned_batch_size(provider: Provider, content: BatchContent, compiled: CompiledIssue,
                       settings: Settings, options: SendOptions, issued_at: datetime) -> int:
    """The batch size a send starts with (the adapter may still make it smaller)."""
    sample = None
    if isinstance(provider, MeasurableProvider):
        sample = provider.measure(content, longest_recipients(compiled, settings, issued_at))
    return batch_size_for(provider.capabilities, content, options.batch_size,
                          byte_budget=options.max_request_bytes, sample=sample)
