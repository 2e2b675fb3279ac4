"""The shared request budget of one provider account: every sending worker paces by it.

One row a provider (``sending.rate_budget``): the pace it may be sent at now, when the next
request may leave, until when a ``Retry-After`` holds everyone back, and the failed requests in
a row across all workers (the brake of the whole send). Times are Unix seconds (floats), so
that the arithmetic is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from digiweetjes.db import Base
from digiweetjes.models.subscribers import UTCDateTime


class SendRate(Base):
    """The pace every worker sending through one provider keeps to (see the module docstring)."""

    __tablename__ = "send_rates"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The most requests a second: the setting, else the adapter's documented default.
    ceiling: Mapped[float] = mapped_column(Float, nullable=False)
    #: The pace now: cut on 429, raised again on success, never above ``ceiling``.
    rate: Mapped[float] = mapped_column(Float, nullable=False)
    #: The earliest moment the next request may leave.
    next_free_at: Mapped[float] = mapped_column(Float, nullable=False)
    #: No request leaves before this (the provider's Retry-After or rate-limit reset).
    blocked_until: Mapped[float] = mapped_column(Float, nullable=False)
    #: When the pace was last cut: 429s of requests sent before then do not cut it again.
    slowed_at: Mapped[float] = mapped_column(Float, nullable=False)
    #: Failed requests in a row, counted by every worker (429s do not count).
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<SendRate provider={self.provider} rate={self.rate:.3f}/{self.ceiling:.3f}>"
