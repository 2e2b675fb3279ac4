"""Mailjet: contacts excluded from campaigns (what unsubscribing from a Mailjet mail does).

``GET /v3/REST/contact?IsExcludedFromCampaigns=true`` pages by ``Limit`` (at most 1000) and
``Offset`` and answers ``{"Count", "Data": [{Email, ID, IsExcludedFromCampaigns, ...}],
"Total"}`` (dev.mailjet.com/email/reference/contacts/contact/#v3_get_contact; the limit: the
mailjet-apiv3-python README, "Using pagination"). The list does not say why a contact is
excluded; Mailjet's hard bounces and spam reports reach us only through its event webhook.
"""

from __future__ import annotations

from collections.abc import Iterator

from digiweetjes.providers.mailjet import MailjetProvider
from digiweetjes.providers.suppressions.listing import (
    ListedSuppression,
    ListReader,
    address,
    items_of,
)

#: Contacts a page may hold (``Limit`` maximum 1000, the README above).
MAX_PAGE = 1000

LISTS = ("contact?IsExcludedFromCampaigns=true",)


def fetch(reader: ListReader, provider: MailjetProvider) -> Iterator[ListedSuppression]:
    pages = reader.offset_pages("/v3/REST/contact", size=reader.size(MAX_PAGE),
                                limit_name="Limit", offset_name="Offset",
                                params={"IsExcludedFromCampaigns": "true"},
                                items=lambda data: items_of(reader, data, "Data"))
    for item in pages:
        yield ListedSuppression(address(reader, item, "Email"), "unsubscribe",
                                "mailjet contact IsExcludedFromCampaigns")
