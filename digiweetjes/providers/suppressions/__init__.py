"""Reading the suppression lists the mail providers keep of their own.

Postmark's broadcast streams, SendGrid, Mailgun, Brevo and Mailjet keep unsubscribes, bounces
and complaints in lists of their own, and stop mailing those addresses whatever we send. This
package reads those lists through each adapter's client and error boundary (one module a
provider, each naming the documented endpoints it uses); ``subscribers.provider_sync`` writes
what they hold into our suppression list and consent ledger.

``list_suppressions(provider)`` reads them all, or raises a provider error before anything is
written; ``supports_suppression_lists(provider)`` says whether there is anything to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from digiweetjes.providers.http import HttpProvider
from digiweetjes.providers.suppressions import brevo, mailgun, mailjet, postmark, resend, sendgrid
from digiweetjes.providers.suppressions.listing import (
    ListedSuppression,
    ListReader,
    SuppressionKind,
    SuppressionListing,
)

__all__ = ["ListedSuppression", "SuppressionKind", "SuppressionListing", "list_suppressions",
           "supports_suppression_lists"]

_Fetch = Callable[[ListReader, Any], Iterable[ListedSuppression]]

#: provider name -> (how to read its lists, the lists' names)
READERS: dict[str, tuple[_Fetch, tuple[str, ...]]] = {
    "postmark": (postmark.fetch, postmark.LISTS),
    "sendgrid": (sendgrid.fetch, sendgrid.LISTS),
    "mailgun": (mailgun.fetch, tuple(mailgun.LISTS)),
    "brevo": (brevo.fetch, brevo.LISTS),
    "mailjet": (mailjet.fetch, mailjet.LISTS),
    "resend": (resend.fetch, resend.LISTS),
}


def supports_suppression_lists(provider: object) -> bool:
    """Whether ``provider`` keeps suppression lists we can read (the outbox keeps none)."""
    return isinstance(provider, HttpProvider) and provider.name in READERS


def list_suppressions(provider: HttpProvider, *,
                      page_size: int | None = None) -> SuppressionListing:
    """Every entry of the provider's lists; ``page_size`` below the documented maximum: tests."""
    fetch, lists = READERS[provider.name]
    reader = ListReader(provider, page_size)
    entries = tuple(fetch(reader, provider))
    return SuppressionListing(provider.name, entries, reader.requests, lists)
