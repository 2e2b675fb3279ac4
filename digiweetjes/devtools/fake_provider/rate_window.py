"""The fake's clock of API requests: when each arrived, and a provider's rate limit, modelled.

``Faults.requests_per_second`` set: more requests than that in any one-second window are
refused (429) with the wait until one fits, as a provider's sliding window would. The arrival
times (``time.monotonic()``, the newest 100,000) let a test count what the provider saw.
"""

from __future__ import annotations

import math
import time
from collections import deque


class RequestClock:
    """Arrival times of API requests and the sliding window of those let through."""

    def __init__(self) -> None:
        self.times: deque[float] = deque(maxlen=100_000)
        self._let_through: deque[float] = deque()

    def arrived(self, limit: float | None) -> int | None:
        """Note a request; if over ``limit`` a second, the whole seconds (at least one, as
        providers say it) it must wait, else None."""
        now = time.monotonic()
        self.times.append(now)
        if not limit:
            return None
        window = self._let_through
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + 1.0 - now))
        window.append(now)
        return None


def most_in_one_second(times: list[float]) -> int:
    """The most requests that arrived within any one second (a half-open window)."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
