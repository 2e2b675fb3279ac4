"""The subscriber list: subscribers, the append-only consent ledger, the suppression list.

Erasure keeps a subscriber row as a tombstone (status ``erased``, no personal data) so rows that
refer to it (deliveries) stay valid; the ledger keeps the keyed hash of the address instead of the
address; the suppression list only ever holds hashes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    or_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from digiweetjes.db import Base


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TopicList(TypeDecorator[list[str]]):
    """Topics as ``|a|b|`` text: a portable LIKE finds one topic on SQLite and PostgreSQL alike."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str:
        topics = sorted(set(value or ()))
        return f"|{'|'.join(topics)}|" if topics else ""

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[str]:
        return [t for t in (value or "").split("|") if t]

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        # Comparing with text (LIKE '%|topic|%', = '') means the stored form, not a list.
        return String() if isinstance(value, str) else self


def enum_check(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class SubscriberStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    ERASED = "erased"


class Source(StrEnum):
    """Where an event came from."""

    FORM = "form"
    IMPORT = "import"
    ADMIN = "admin"
    WEBHOOK = "webhook"
    SYSTEM = "system"


class ConsentEventType(StrEnum):
    SUBSCRIBED = "subscribed"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    IMPORTED = "imported"
    PREFERENCES_CHANGED = "preferences_changed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    ERASED = "erased"
    EXPIRED = "expired"


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    COMPLAINED = "complained"
    BOUNCED = "bounced"
    ERASED = "erased"


class Subscriber(Base):
    """A person on the list (or, once erased, a tombstone without personal data)."""

    __tablename__ = "subscribers"
    __table_args__ = (
        CheckConstraint(enum_check("status", SubscriberStatus), name="status"),
        CheckConstraint(enum_check("source", Source), name="source"),
        # The subregion ids of projects.yaml's region, frozen by migration 0001: a new subregion
        # needs a migration (tests/test_db.py checks that the two agree).
        CheckConstraint("subregion IS NULL OR subregion IN ('noord', 'centrum', 'west')",
                        name="subregion"),
        Index("ix_subscribers_status_municipality", "status", "municipality"),
        Index("ix_subscribers_status_subregion", "status", "subregion"),
        # Links carry a prefix of this hash, not the row id (``subscribers.tokens``).
        Index("ix_subscribers_email_hash", "email_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The normalised address as given (domain lower-cased); NULL once erased.
    email: Mapped[str | None] = mapped_column(String(320))
    #: Lower-cased address: the case-insensitive identity, unique; NULL once erased.
    email_key: Mapped[str | None] = mapped_column(String(320), unique=True)
    #: Keyed hash of ``email_key`` (suppression and ledger lookups); NULL once erased.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(40))
    subregion: Mapped[str | None] = mapped_column(String(20))
    #: Topic ids (see ``digiweetjes.subscribers.topics``); empty means every topic.
    topics: Mapped[list[str]] = mapped_column(TopicList, default=list, nullable=False)
    language: Mapped[str] = mapped_column(String(10), default="nl-BE", nullable=False)
    # Indexed through (status, municipality) and (status, subregion): audiences filter on both.
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    #: How consent was obtained outside the double opt-in (import/admin ``--consent-source``).
    consent_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    complained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def has_topic(cls, topic: str) -> ColumnElement[bool]:
        """SQL: the subscriber wants ``topic`` (or chose no topics, which means all)."""
        return or_(cls.topics == "", cls.topics.like(f"%|{topic}|%"))  # type: ignore[arg-type]

    @property
    def opted_out_at(self) -> datetime | None:
        """The latest moment the person left the list (unsubscribe, complaint, hard bounce)."""
        moments = [m for m in (self.unsubscribed_at, self.complained_at, self.bounced_at) if m]
        return max(moments) if moments else None

    def __repr__(self) -> str:
        return f"<Subscriber id={self.id} status={self.status}>"


class ConsentEvent(Base):
    """One line of the append-only consent ledger (GDPR art. 7(1): consent must be provable)."""

    __tablename__ = "consent_events"
    __table_args__ = (
        CheckConstraint(enum_check("event", ConsentEventType), name="event"),
        CheckConstraint(enum_check("source", Source), name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    #: The address at the time; replaced by NULL on erasure (``email_hash`` stays).
    email: Mapped[str | None] = mapped_column(String(320))
    email_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    event: Mapped[str] = mapped_column(String(30), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    privacy_notice_version: Mapped[str | None] = mapped_column(String(40))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    #: What else proves or explains the event (consent source, import file and line, fields).
    detail: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<ConsentEvent id={self.id} {self.event} subscriber={self.subscriber_id}>"


class Suppression(Base):
    """An address (by keyed hash) that nothing may re-add without a fresh confirmed opt-in."""

    __tablename__ = "suppressions"
    __table_args__ = (
        CheckConstraint(enum_check("reason", SuppressionReason), name="reason"),
        CheckConstraint(enum_check("source", Source), name="source"),
    )

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class MailThrottle(Base):
    """When an address last got a mail triggered by someone submitting it (one an hour at most)."""

    __tablename__ = "mail_throttle"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
