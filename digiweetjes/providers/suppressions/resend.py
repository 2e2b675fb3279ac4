"""Resend: the team's suppression list (a private beta API).

``GET /suppressions`` takes ``limit`` (at most 100) and ``after`` (the last id of the previous
page) and answers ``{"object": "list", "has_more", "data": [{id, email, origin, source_id,
created_at}]}``; ``origin`` is ``bounce``, ``complaint`` or ``manual`` (added by the team:
reported, not applied) (resend.com/docs/api-reference/suppressions/list-suppressions; "The
Suppressions API is currently in private beta", .../add-suppression). Resend hosts no
unsubscribe links, so it has no unsubscribes of its own to give back.
"""

from __future__ import annotations

from collections.abc import Iterator

from digiweetjes.providers.resend import ResendProvider
from digiweetjes.providers.suppressions.listing import (
    ListedSuppression,
    ListReader,
    address,
    items_of,
)

#: Suppressions a page may hold ("Maximum value: 100", the docs above).
MAX_PAGE = 100

LISTS = ("suppressions",)


def fetch(reader: ListReader, provider: ResendProvider) -> Iterator[ListedSuppression]:
    params: dict[str, str | int] = {"limit": reader.size(MAX_PAGE)}
    while True:
        data = reader.get("/suppressions", params)
        page = items_of(reader, data, "data")
        for item in page:
            origin = str(item.get("origin") or "")
            kind = {"bounce": "bounce", "complaint": "complaint"}.get(origin, "other")
            yield ListedSuppression(address(reader, item, "email"), kind,  # type: ignore[arg-type]
                                    f"resend suppressions: {origin or '?'}")
        last = page[-1].get("id") if page else None
        if not (isinstance(data, dict) and data.get("has_more") and isinstance(last, str)):
            return
        params = {"limit": params["limit"], "after": last}
