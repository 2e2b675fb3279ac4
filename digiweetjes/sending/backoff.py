"""Retry delays: exponential backoff with jitter, never sooner than the provider asked."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """``base · 2^(attempt-1)`` capped at ``cap``, jittered to 50–100 % of that ("equal jitter"),
    and at least the provider's ``Retry-After`` / rate-limit reset hint."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempt: int, retry_after: float | None = None,
              rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        jittered = ceiling * (0.5 + 0.5 * (rng or random).random())
        if retry_after is not None:
            # A hint beyond the cap still wins: sending sooner would only be refused again.
            return max(jittered, retry_after)
        return jittered
