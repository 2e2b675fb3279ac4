"""A per-provider rate limiter: requests a second and messages an hour, shared by the workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class _Bucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` a second."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` tokens are there (0: take them now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        needed = min(amount, self.capacity) - self.tokens
        return 0.0 if needed <= 0 else needed / self.rate

    def take(self, amount: float) -> None:
        self.tokens -= amount


class RateLimiter:
    """Blocks a sender until its request fits both limits (None: no limit).

    ``requests_per_second`` allows a burst of one second's worth; ``messages_per_hour`` is the
    provider's hourly quota, refilled continuously. Clock and sleep are injected for tests.
    """

    def __init__(self, requests_per_second: float | None = None,
                 messages_per_hour: int | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if requests_per_second is not None and requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        if messages_per_hour is not None and messages_per_hour <= 0:
            raise ValueError("messages_per_hour must be positive")
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        now = monotonic()
        self._requests = None if requests_per_second is None else _Bucket(
            requests_per_second, max(1.0, requests_per_second), now)
        self._messages = None if messages_per_hour is None else _Bucket(
            messages_per_hour / 3600.0, float(messages_per_hour), now)
        self.waited = 0.0

    def acquire(self, messages: int) -> None:
        """Wait until one request carrying ``messages`` messages may go, and count it."""
        while True:
            with self._lock:
                now = self._monotonic()
                wait = max(
                    self._requests.wait_for(1, now) if self._requests else 0.0,
                    self._messages.wait_for(messages, now) if self._messages else 0.0)
                if wait <= 0:
                    if self._requests:
                        self._requests.take(1)
                    if self._messages:
                        self._messages.take(min(messages, self._messages.capacity))
                    return
                self.waited += wait
            self._sleep(wait)
