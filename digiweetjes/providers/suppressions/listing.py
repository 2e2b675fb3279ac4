"""What a provider's suppression lists read as: entries, the reader that pages, the listing.

Every provider module turns its own lists into ``ListedSuppression`` entries of one of four
kinds: ``bounce`` (a hard bounce), ``complaint`` (a spam complaint), ``unsubscribe`` (the
recipient unsubscribed at the provider) and ``other`` (on the provider's list for a reason the
recipient did not give: added by someone at the provider, a soft bounce, a reason code we do not
know). ``other`` entries are reported, never written to the consent ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from digiweetjes.errors import PermanentProviderError
from digiweetjes.providers.http import HttpProvider

SuppressionKind = Literal["bounce", "complaint", "unsubscribe", "other"]

#: A provider that keeps answering full pages stops here: far beyond any real list.
MAX_PAGES = 10_000


@dataclass(frozen=True)
class ListedSuppression:
    """One address on one of the provider's lists."""

    email: str
    kind: SuppressionKind
    #: Which list and reason, in the provider's words ("sendgrid spam_reports").
    detail: str


@dataclass(frozen=True)
class SuppressionListing:
    """Everything one provider's lists held, and how many requests reading them took."""

    provider: str
    entries: tuple[ListedSuppression, ...]
    requests: int
    #: The lists read, in the provider's words ("bounces", "spam_reports", ...).
    lists: tuple[str, ...]


class ListReader:
    """GETs through the adapter's client and error boundary, counting requests."""

    def __init__(self, provider: HttpProvider, page_size: int | None = None) -> None:
        self.provider = provider
        self.page_size = page_size
        self.requests = 0

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        self.requests += 1
        if self.requests > MAX_PAGES:
            raise PermanentProviderError(
                f"{self.provider.name}: more than {MAX_PAGES} pages; the paging does not end")
        return self.provider._get(path, params)

    def size(self, documented_max: int) -> int:
        """The page size to ask for: the documented maximum, or less when told (tests)."""
        return min(self.page_size or documented_max, documented_max)

    def offset_pages(self, path: str, *, size: int, items: Callable[[Any], list[dict]],
                     limit_name: str = "limit", offset_name: str = "offset",
                     params: Mapping[str, str | int] | None = None) -> Iterator[dict]:
        """Every item of a list paged by limit and offset (a short page is the last)."""
        offset = 0
        while True:
            page = items(self.get(path, {**(params or {}), limit_name: size,
                                         offset_name: offset}))
            yield from page
            if len(page) < size:
                return
            offset += size

    def unexpected(self, what: str) -> PermanentProviderError:
        return PermanentProviderError(f"{self.provider.name}: unexpected answer ({what})")


def items_of(reader: ListReader, data: Any, key: str | None) -> list[dict]:
    """The list of objects under ``key`` (or the document itself when ``key`` is None)."""
    found = data if key is None else (data.get(key) if isinstance(data, dict) else None)
    if found is None and key is not None and isinstance(data, dict):
        return []  # Brevo leaves out ``contacts`` when there are none
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise reader.unexpected(f"no list of objects{f' under {key!r}' if key else ''}")
    return found


def address(reader: ListReader, item: dict, key: str) -> str:
    """The address field of one list item."""
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise reader.unexpected(f"an item without {key!r}")
    return value.strip()
