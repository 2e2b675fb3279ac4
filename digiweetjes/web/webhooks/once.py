"""Values that may be used once within a time window (Mailgun's webhook tokens)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class UsedOnce:
    """Remembers used values until they expire; bounded, so a flood cannot grow it forever.

    Per process: with several web processes a replay to another one gets past this, and is
    then recognised by its stored event (``webhook_events``), changing nothing.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._expiry: dict[str, datetime] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def seen(self, value: str, now: datetime) -> bool:
        """Whether ``value`` was used and has not expired yet."""
        with self._lock:
            expiry = self._expiry.get(value)
            return expiry is not None and expiry > now

    def use(self, value: str, now: datetime, lasting: timedelta) -> None:
        """Remember ``value`` as used until ``now + lasting``."""
        with self._lock:
            if len(self._expiry) >= self._limit:
                self._expiry = {v: e for v, e in self._expiry.items() if e > now}
                while len(self._expiry) >= self._limit:  # all still valid: drop the oldest
                    self._expiry.pop(next(iter(self._expiry)))
            self._expiry[value] = now + lasting
