"""Postmark: the suppression dump of the adapter's message stream.

``GET /message-streams/{stream}/suppressions/dump`` answers ``{"Suppressions": [{EmailAddress,
SuppressionReason, Origin, CreatedAt}]}``, the whole list at once: the endpoint has no paging
(postmarkapp.com/developer/api/suppressions-api, "Suppression dump"). ``SuppressionReason`` is
``HardBounce``, ``SpamComplaint`` or ``ManualSuppression``; a ``ManualSuppression`` whose
``Origin`` is ``Recipient`` is someone who used Postmark's unsubscribe link, one of origin
``Customer`` or ``Admin`` was added by the account or by Postmark (reported, not applied).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from digiweetjes.providers.postmark import PostmarkProvider
from digiweetjes.providers.suppressions.listing import (
    ListedSuppression,
    ListReader,
    address,
    items_of,
)


def fetch(reader: ListReader, provider: PostmarkProvider) -> Iterator[ListedSuppression]:
    stream = provider.message_stream
    data = reader.get(f"/message-streams/{quote(stream, safe='')}/suppressions/dump")
    for item in items_of(reader, data, "Suppressions"):
        reason = str(item.get("SuppressionReason") or "")
        origin = str(item.get("Origin") or "")
        kind = {"HardBounce": "bounce", "SpamComplaint": "complaint"}.get(reason, "other")
        if reason == "ManualSuppression" and origin == "Recipient":
            kind = "unsubscribe"
        yield ListedSuppression(address(reader, item, "EmailAddress"), kind,  # type: ignore[arg-type]
                                f"postmark {stream}: {reason} ({origin})")


LISTS = ("suppressions/dump",)
