"""The arithmetic of an adaptive request pace: spacing, 429 back-off, recovery (AIMD).

A ``Pace`` is the state one provider account is sent at (kept in memory by ``LocalBudget``, in
the ``send_rates`` table by ``SharedBudget``; both in ``sending.rate_budget``). Requests are
spaced a little more than ``1 / rate`` apart (``HEADROOM``), never in bursts, so in any
one-second window the provider sees at most ``rate`` of them, even when the network delays one
request more than the next. A 429 halves the rate (multiplicative decrease) and holds every request
back until the provider's retry time; each accepted request raises it by a twentieth of the
ceiling (additive increase) up to the ceiling: the configured rate, else the adapter's default.
All times are Unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The pace aims at this share of the rate: R + 1 requests then span 1.25 s, so a request
#: delayed between its slot and its arrival (building it, a busy CPU: up to a tenth of a
#: second measured under load, more for a process's first) still leaves the provider's window
#: at R. It costs a fifth of the ceiling's throughput, where a 429 costs a whole Retry-After.
HEADROOM = 0.8
#: A 429 multiplies the rate by this.
DECREASE = 0.5
#: Each accepted request adds this share of the ceiling back to the rate.
INCREASE = 1 / 20
#: The rate never drops below this share of the ceiling (1/64: six halvings), so a long 429
#: storm still probes the provider now and then instead of stopping for good.
FLOOR = 1 / 64
#: Without a Retry-After, a 429 holds requests back this long when no rate applies.
UNHINTED_PAUSE = 1.0


@dataclass(frozen=True)
class Slot:
    """When a request may leave; ``granted``: the slot is taken (else: ask again then)."""

    at: float
    granted: bool


@dataclass
class Pace:
    """How fast one provider account may be sent to now (see the module docstring).

    ``ceiling`` None: no rate applies; only a provider's retry time holds requests back.
    """

    ceiling: float | None
    rate: float
    next_free_at: float = 0.0
    blocked_until: float = 0.0
    slowed_at: float = 0.0

    @classmethod
    def start(cls, ceiling: float | None) -> Pace:
        return cls(ceiling=ceiling, rate=ceiling or 0.0)

    def adopt(self, ceiling: float | None) -> None:
        """Follow a changed setting: a lower ceiling caps the rate at once, a higher one is
        reached by the usual recovery."""
        if ceiling != self.ceiling:
            self.ceiling = ceiling
            self.rate = min(self.rate, ceiling) if ceiling is not None and self.rate > 0 \
                else ceiling or 0.0

    def take(self, now: float, horizon: float) -> Slot:
        """The next slot: taken if it begins within ``horizon`` seconds of ``now``."""
        at = max(now, self.blocked_until)
        if self.ceiling is None:
            return Slot(at, granted=at - now <= horizon)
        at = max(at, self.next_free_at)
        if at - now > horizon:
            return Slot(at, granted=False)
        self.next_free_at = at + 1.0 / (self.rate * HEADROOM)
        return Slot(at, granted=True)

    def rate_limited(self, now: float, sent_at: float, retry_after: float | None) -> None:
        """The provider answered 429 to a request sent at ``sent_at``.

        Requests already in flight when the rate was last cut met the old pace: their 429s
        hold requests back but do not cut the rate again.
        """
        if self.ceiling is not None and sent_at >= self.slowed_at:
            self.rate = max(self.ceiling * FLOOR, self.rate * DECREASE)
            self.slowed_at = now
        if retry_after is None:
            retry_after = UNHINTED_PAUSE if self.ceiling is None else 1.0 / self.rate
        self.block(now + retry_after)

    def block(self, until: float) -> None:
        """No request leaves before ``until`` (a retry time, a rate-limit window's reset)."""
        self.blocked_until = max(self.blocked_until, until)

    def accepted(self) -> bool:
        """A request went through: creep back towards the ceiling. True if the rate changed."""
        if self.ceiling is None or self.rate >= self.ceiling:
            return False
        self.rate = min(self.ceiling, self.rate + self.ceiling * INCREASE)
        return True
