"""Provider webhook events as received: the record that makes a repeated event harmless.

One row an event, unique by (provider, event key): the provider's own event id where it gives
one (SendGrid ``sg_event_id``, Mailgun ``event-data.id``, Resend's ``svix-id``), else a hash of
the event's identifying fields. No address is stored: the keyed hash, as in the consent ledger,
so an erasure needs nothing from this table. Soft bounces are counted here.
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
)
from sqlalchemy.orm import Mapped, mapped_column

from digiweetjes.db import Base
from digiweetjes.models.subscribers import UTCDateTime, enum_check


class WebhookEventKind(StrEnum):
    """What an event means for the list."""

    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    OTHER = "other"      # delivered, opened, deferred...: stored, changes nothing


class WebhookEvent(Base):
    """One event a provider reported (see the module docstring)."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint(enum_check("kind", WebhookEventKind), name="kind"),
        UniqueConstraint("provider", "event_key", name="uq_webhook_events_provider"),
        Index("ix_webhook_events_email_hash_kind", "email_hash", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The provider's event id, or a hash of the event's identifying fields; unique a provider.
    event_key: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The provider's own name of the event ("hard_bounce", "failed", "SpamComplaint"...).
    provider_event: Mapped[str] = mapped_column(String(60), nullable=False)
    #: Keyed hash of the address (``subscribers.hashing``); NULL if the event named none.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    #: The per-recipient reference the adapters send (``deliveries.reference``), if echoed.
    reference: Mapped[str | None] = mapped_column(String(64))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True)
    #: What the event changed: "bounced", "complained", "unsubscribed", "counted", "ignored"...
    outcome: Mapped[str] = mapped_column(String(40), nullable=False)
    #: The provider's reason, addresses removed, cut to a sensible length.
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<WebhookEvent id={self.id} {self.provider} {self.kind} {self.outcome}>"
