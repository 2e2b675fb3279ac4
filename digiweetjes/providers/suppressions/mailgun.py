"""Mailgun: the domain's bounces, unsubscribes and complaints.

``GET /v3/{domain}/bounces``, ``/unsubscribes`` and ``/complaints`` take ``limit`` (at most
1000) and answer ``{"items": [{address, created_at, ...}], "paging": {first, last, next,
previous}}``; ``paging.next`` is the URL of the next page, and the page after the last one is
empty (documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/bounces/
get-v3--domainid--bounces, .../unsubscribe/get-v3--domainid--unsubscribes, .../complaints).
An unsubscribe whose ``tags`` name only some tags still counts: the newsletter is one list.
A ``paging.next`` on another host than the adapter's is refused, so the key is never sent
elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

from digiweetjes.providers.mailgun import MailgunProvider
from digiweetjes.providers.suppressions.listing import (
    ListedSuppression,
    ListReader,
    SuppressionKind,
    address,
    items_of,
)

#: Records a page may hold ("default: 100, max: 1000", the docs above).
MAX_PAGE = 1000

LISTS: dict[str, SuppressionKind] = {
    "bounces": "bounce",
    "unsubscribes": "unsubscribe",
    "complaints": "complaint",
}


def _pages(reader: ListReader, provider: MailgunProvider, name: str) -> Iterator[dict]:
    path: str | None = f"/v3/{provider.domain}/{name}"
    params: dict[str, str | int] | None = {"limit": reader.size(MAX_PAGE)}
    seen: set[str] = set()
    while path is not None:
        data = reader.get(path, params)
        page = items_of(reader, data, "items")
        if not page:
            return
        yield from page
        paging = data.get("paging") if isinstance(data, dict) else None
        following = paging.get("next") if isinstance(paging, dict) else None
        if not isinstance(following, str) or following in seen:
            return
        seen.add(following)
        if not following.startswith(provider.base_url + "/"):
            raise reader.unexpected("paging.next points at another host")
        path, params = following[len(provider.base_url):], None


def fetch(reader: ListReader, provider: MailgunProvider) -> Iterator[ListedSuppression]:
    for name, kind in LISTS.items():
        for item in _pages(reader, provider, name):
            yield ListedSuppression(address(reader, item, "address"), kind,
                                    f"mailgun {name}: {item.get('code') or ''}".rstrip(": "))
