"""The lease that keeps exactly one scheduler active (``scheduling.lease``).

One row a lease name: who holds it (``host:pid:nonce``) and until when. The holder renews it
well before it expires; another scheduler takes it over only once it has expired.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from digiweetjes.db import Base
from digiweetjes.models.subscribers import UTCDateTime


class SchedulerLease(Base):
    """Who runs the scheduler now (see the module docstring)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<SchedulerLease {self.name} holder={self.holder} until={self.expires_at}>"
