"""Holding each request back until the provider may take it, and learning from its answers.

The engine asks ``Pacer.wait_turn`` before every request, and tells it how the request went:
``accepted`` (the pace creeps back up; a rate-limit window the provider reports as used up
holds requests until its reset), ``rate_limited`` (a 429: the pace is cut and nobody sends
before the provider's retry time) or ``failed`` (counted towards the brake). Which rate applies
is ``request_ceiling``: ``DIGIWEETJES_SEND_REQUESTS_PER_SECOND`` if set (0: none), else the
adapter's documented default (``Capabilities.default_requests_per_second``). Where a rate
applies, the budget is shared through the database (``sending.rate_budget``); the hourly message
quota (``messages_per_hour``) stays a per-process token bucket, split between the processes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from digiweetjes.db import Database
from digiweetjes.providers.base import Capabilities, Provider
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.rate_budget import Budget, LocalBudget, SharedBudget
from digiweetjes.sending.ratelimit import RateLimiter

if TYPE_CHECKING:
    from digiweetjes.providers.http import RateLimitState

#: A slot is taken at most this far ahead, then slept for: a 429 met meanwhile by another
#: worker does not stop a request whose slot began this little before it.
HORIZON = 0.25


def request_ceiling(options: SendOptions, capabilities: Capabilities) -> float | None:
    """The most requests a second for a send: the setting (0: no limit), else the adapter's
    documented default (None: none)."""
    if options.requests_per_second is not None:
        return options.requests_per_second or None
    return capabilities.default_requests_per_second


class Pacer:
    """The rate of one sending process's requests (see the module docstring)."""

    def __init__(self, budget: Budget, hourly: RateLimiter, *, wall: Callable[[], float],
                 sleep: Callable[[float], None],
                 hints: Callable[[], RateLimitState | None] = lambda: None) -> None:
        self.budget = budget
        self.hourly = hourly
        self.wall = wall
        self.sleep = sleep
        self.hints = hints
        self._last_hint: RateLimitState | None = None
        self.waited = 0.0

    def wait_turn(self, messages: int) -> float:
        """Wait until a request carrying ``messages`` messages may leave; its slot's time."""
        self.hourly.acquire(messages)
        while True:
            now = self.wall()
            slot = self.budget.take(now, HORIZON)
            wait = slot.at - now
            if slot.granted:
                if wait > 0:
                    self.waited += wait
                    self.sleep(wait)
                return slot.at
            # Wake when the slot is within reach, and ask again (another may take it first).
            pause = max(0.001, wait - HORIZON / 2)
            self.waited += pause
            self.sleep(pause)

    def accepted(self) -> None:
        """The provider took the request; a window it reports used up holds the next ones."""
        hint = self.hints()
        blocked_until = None
        if hint is not None and hint is not self._last_hint:
            self._last_hint = hint
            if hint.remaining == 0 and hint.reset_after:
                blocked_until = self.wall() + hint.reset_after
        self.budget.accepted(self.wall(), blocked_until)

    def rate_limited(self, sent_at: float, retry_after: float | None) -> None:
        """The provider answered 429 to the request whose slot was ``sent_at``."""
        self.budget.rate_limited(self.wall(), sent_at, retry_after)

    def failed(self) -> int:
        """Count a failed request; how many failed in a row (every worker's, if shared)."""
        return self.budget.failed(self.wall())

    def clear_failures(self) -> None:
        self.budget.clear_failures(self.wall())


def pacer_for(db: Database, provider: Provider, options: SendOptions, *, share: int,
              wall: Callable[[], float], monotonic: Callable[[], float],
              sleep: Callable[[float], None]) -> Pacer:
    """The pacer of one sending process with ``provider`` (one of ``share`` processes)."""
    ceiling = request_ceiling(options, provider.capabilities)
    budget: Budget = LocalBudget(None) if ceiling is None else \
        SharedBudget(db, provider.name, ceiling)
    hourly = options.messages_per_hour
    limiter = RateLimiter(None, None if hourly is None else max(1, hourly // share),
                          monotonic=monotonic, sleep=sleep)
    return Pacer(budget, limiter, wall=wall, sleep=sleep,
                 hints=lambda: getattr(provider, "rate_limit", None))
