"""The delivery ledger: one campaign per issue sent to the list, one delivery per recipient.

``Delivery`` rows move through the state machine of ``digiweetjes.sending.ledger``; the indexes
make claiming a batch cost O(batch), not O(audience).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from digiweetjes.db import Base
from digiweetjes.models.subscribers import UTCDateTime, enum_check


class CampaignState(StrEnum):
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SUPPRESSED = "suppressed"


class Campaign(Base):
    """One issue sent to the list: its frozen audience lives in ``deliveries``."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint(enum_check("state", CampaignState), name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    tag: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The provider the campaign was started with: idempotency keys only mean something there.
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    audience_size: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Also the issue time of the tokens in its links, so a retried batch is byte-identical.
    audience_frozen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What was sent, stored when the audience is frozen, with the non-personal values in the
    #: placeholders (``CompiledIssue.web_version``): the mail's HTML and text parts.
    html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    #: The archive's page of the issue, rendered from the same content at the same moment.
    web_html: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Campaign id={self.id} issue={self.issue_id} state={self.state}>"


class Delivery(Base):
    """One recipient of one campaign, and where its mail stands."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id", name="uq_deliveries_campaign_id"),
        CheckConstraint(enum_check("state", DeliveryState), name="state"),
        # Partial indexes hold only the rows in flight, so the millions already sent cost
        # nothing: claiming fresh rows (no next attempt, id order) and due retries
        # (next_attempt_at order) are ranges of the first; batches being sent, of the second.
        Index("ix_deliveries_queued", "campaign_id", "next_attempt_at", "id",
              sqlite_where=text("state = 'queued'"), postgresql_where=text("state = 'queued'")),
        Index("ix_deliveries_sending", "campaign_id", "idempotency_key",
              sqlite_where=text("state = 'sending'"),
              postgresql_where=text("state = 'sending'")),
        # Webhooks name a delivery by its reference (or, for Postmark and Brevo, by the
        # provider's message id); rows not sent yet have no message id and cost nothing.
        Index("ix_deliveries_reference", "reference", unique=True),
        Index("ix_deliveries_message_id", "message_id",
              sqlite_where=text("message_id IS NOT NULL"),
              postgresql_where=text("message_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Which worker holds the row while it is ``sending`` (host:pid:nonce) and since when.
    worker_id: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The batch's key: every row sent in one request shares it, and keeps it across retries.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    key_first_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The provider's id of the message; SendGrid and Mailgun give one id a whole batch, so
    #: it is shared by the batch's rows there and only ``reference`` names one delivery.
    message_id: Mapped[str | None] = mapped_column(String(255))
    #: Our id of the delivery towards the provider (tags, custom args, headers), echoed in its
    #: webhook events: random, safe characters only, set when the audience is frozen and never
    #: changed (a retried batch must stay byte-identical). Not derived from ``id``, so a webhook
    #: pointed at another database (staging) finds nothing there. See ``sending.references``.
    reference: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<Delivery id={self.id} campaign={self.campaign_id} state={self.state}>"
