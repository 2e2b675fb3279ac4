"""SendGrid: the bounce, spam report and global unsubscribe lists, and group unsubscribes.

- ``GET /v3/suppression/bounces``, ``/v3/suppression/spam_reports`` and
  ``/v3/suppression/unsubscribes`` page by ``limit`` and ``offset`` and answer a JSON array of
  ``{email, created, ...}`` (bounces add ``status`` and ``reason``); up to 500 a page
  (twilio.com/docs/sendgrid/api-reference/bounces-api/retrieve-all-bounces, "retrieve up to 500
  instances per query"; spam-reports-api/retrieve-all-spam-reports;
  suppressions-global-suppressions/retrieve-all-global-suppressions).
- ``GET /v3/asm/suppressions`` answers every unsubscribe group's suppressions in one array of
  ``{email, group_id, group_name, created_at}``, without paging
  (twilio.com/docs/sendgrid/api-reference/suppressions-suppressions/retrieve-all-suppressions).

A bounce whose ``status`` starts with ``4`` is temporary (an enhanced status code, RFC 3463) and
is reported, not applied.
"""

from __future__ import annotations

from collections.abc import Iterator

from digiweetjes.providers.sendgrid import SendGridProvider
from digiweetjes.providers.suppressions.listing import (
    ListedSuppression,
    ListReader,
    address,
    items_of,
)

#: Items a page of the /v3/suppression lists may hold (the docs above: up to 500 a query).
MAX_PAGE = 500

LISTS = ("bounces", "spam_reports", "unsubscribes", "asm/suppressions")


def fetch(reader: ListReader, provider: SendGridProvider) -> Iterator[ListedSuppression]:
    size = reader.size(MAX_PAGE)

    def pages(name: str) -> Iterator[dict]:
        return reader.offset_pages(f"/v3/suppression/{name}", size=size,
                                   items=lambda data: items_of(reader, data, None))

    for item in pages("bounces"):
        status = str(item.get("status") or "")
        yield ListedSuppression(address(reader, item, "email"),
                                "other" if status.startswith("4") else "bounce",
                                f"sendgrid bounces: {status or '?'}")
    for item in pages("spam_reports"):
        yield ListedSuppression(address(reader, item, "email"), "complaint",
                                "sendgrid spam_reports")
    for item in pages("unsubscribes"):
        yield ListedSuppression(address(reader, item, "email"), "unsubscribe",
                                "sendgrid unsubscribes")
    for item in items_of(reader, reader.get("/v3/asm/suppressions"), None):
        group = item.get("group_name") or item.get("group_id")
        yield ListedSuppression(address(reader, item, "email"), "unsubscribe",
                                f"sendgrid asm group {group}")
