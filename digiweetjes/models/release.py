"""The release lifecycle of an issue: who approved which content, when it is to go out.

One row an issue (``release``): ``draft → approved → scheduled → sending → sent``, with
``paused``, ``cancelled`` and ``missed`` beside them. The content hash is the approved content
(``release.approval.content_hash``); a draft edited after approval no longer matches it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digiweetjes.db import Base
from digiweetjes.models.subscribers import UTCDateTime, enum_check


class IssueState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    MISSED = "missed"


class IssueRelease(Base):
    """Where one issue stands between approval and the archive."""

    __tablename__ = "issue_releases"
    __table_args__ = (
        CheckConstraint(enum_check("state", IssueState), name="state"),
        # The runner looks for due sends: scheduled rows by time.
        Index("ix_issue_releases_state_send_at", "state", "send_at"),
    )

    issue_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    #: sha256 of the approved content (hex); NULL while never approved.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The moment it is scheduled for (UTC); NULL unless scheduled.
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it is missed, paused, cancelled (Dutch, for people).
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<IssueRelease {self.issue_id} state={self.state}>"
