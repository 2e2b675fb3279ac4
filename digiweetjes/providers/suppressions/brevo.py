"""Brevo: the blocked or unsubscribed transactional contacts.

``GET /v3/smtp/blockedContacts`` pages by ``limit`` (at most 100) and ``offset`` and answers
``{"contacts": [{email, senderEmail, reason: {code, message}, blockedAt}], "count"}``; ``sort``
``asc`` keeps pages stable while new entries arrive
(developers.brevo.com/reference/get-transac-blocked-contacts). Reason codes: ``hardBounce``,
``contactFlaggedAsSpam``, ``unsubscribedViaEmail``, ``unsubscribedViaMA``,
``unsubscribedViaApi``, ``adminBlocked`` (the last is the account's own doing: reported).
"""

from __future__ import annotations

from collections.abc import Iterator

from digiweetjes.providers.brevo import BrevoProvider
from digiweetjes.providers.suppressions.listing import (
    ListedSuppression,
    ListReader,
    SuppressionKind,
    address,
    items_of,
)

#: Contacts a page may hold ("Results default to 50 per page (max 100)", the docs above).
MAX_PAGE = 100

LISTS = ("smtp/blockedContacts",)

KINDS: dict[str, SuppressionKind] = {
    "hardBounce": "bounce",
    "contactFlaggedAsSpam": "complaint",
    "unsubscribedViaEmail": "unsubscribe",
    "unsubscribedViaMA": "unsubscribe",
    "unsubscribedViaApi": "unsubscribe",
}


def fetch(reader: ListReader, provider: BrevoProvider) -> Iterator[ListedSuppression]:
    pages = reader.offset_pages("/v3/smtp/blockedContacts", size=reader.size(MAX_PAGE),
                                params={"sort": "asc"},
                                items=lambda data: items_of(reader, data, "contacts"))
    for item in pages:
        reason = item.get("reason")
        code = str(reason.get("code") or "") if isinstance(reason, dict) else ""
        yield ListedSuppression(address(reader, item, "email"), KINDS.get(code, "other"),
                                f"brevo blockedContacts: {code or '?'}")
