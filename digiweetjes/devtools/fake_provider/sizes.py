"""What the fake's requests weighed, per provider, against the providers' byte limits.

``/_fake/deliveries`` reports the largest of each size seen (``request`` body bytes, and what a
dialect measures: Brevo ``params_total``/``params_version``, SendGrid
``personalization_data``...) and how many requests were refused for a byte limit, so a test
can show a large send stayed inside every limit.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from digiweetjes.devtools.fake_provider.dialect import Api, ApiError, Parsed


class SizeLog:
    """The largest sizes seen and the refusals for size, per provider (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.largest: dict[str, dict[str, int]] = {}
        self.refusals: Counter[str] = Counter()

    def note(self, provider: str, request: int, sizes: dict[str, int],
             refused: bool = False) -> None:
        with self._lock:
            largest = self.largest.setdefault(provider, {})
            for name, value in (("request", request), *sizes.items()):
                largest[name] = max(largest.get(name, 0), value)
            if refused:
                self.refusals[provider] += 1

    def parse(self, api: Api, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        """``api.parse`` with its sizes noted; a body over the provider's ceiling is refused
        first, with the provider's 413."""
        try:
            too_large = api.request_too_large(body)
            if too_large is not None:
                raise ApiError(too_large, over_limit=True)
            parsed = api.parse(path, headers, body, render)
        except ApiError as exc:
            self.note(api.provider, len(body), exc.sizes, refused=exc.over_limit)
            raise
        self.note(api.provider, len(body), parsed.sizes)
        return parsed

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"largest": {p: dict(s) for p, s in self.largest.items()},
                    "size_refusals": dict(self.refusals)}
