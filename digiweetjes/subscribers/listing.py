"""Reading the list: the admin filters, listing, a subscriber's consent history and deliveries,
counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from digiweetjes.models import (
    Campaign,
    ConsentEvent,
    Delivery,
    Subscriber,
    SubscriberStatus,
    Suppression,
)


def subscriber_query(*, status: str | None = None, municipality: str | None = None,
                     subregion: str | None = None, topic: str | None = None) -> Select[Any]:
    """The admin filters as one query; erased tombstones only when that status is asked for."""
    query = select(Subscriber)
    if status:
        query = query.where(Subscriber.status == status)
    else:
        query = query.where(Subscriber.status != SubscriberStatus.ERASED)
    if municipality:
        query = query.where(Subscriber.municipality == municipality)
    if subregion:
        query = query.where(Subscriber.subregion == subregion)
    if topic:
        query = query.where(Subscriber.has_topic(topic))
    return query


def list_subscribers(session: Session, *, status: str | None = None,
                     municipality: str | None = None, subregion: str | None = None,
                     topic: str | None = None, search: str | None = None,
                     limit: int | None = None, offset: int = 0) -> list[Subscriber]:
    """Subscribers matching the filters, oldest first; erased tombstones only when asked."""
    query = _searched(subscriber_query(status=status, municipality=municipality,
                                       subregion=subregion, topic=topic), search)
    query = query.order_by(Subscriber.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_subscribers(session: Session, *, status: str | None = None,
                      municipality: str | None = None, subregion: str | None = None,
                      topic: str | None = None, search: str | None = None) -> int:
    """How many subscribers ``list_subscribers`` would give without a limit (for paging)."""
    query = _searched(subscriber_query(status=status, municipality=municipality,
                                       subregion=subregion, topic=topic), search)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _searched(query: Select[Any], search: str | None) -> Select[Any]:
    """``query`` narrowed to addresses or names containing ``search`` (any case). The LIKE
    wildcards are escaped: an admin searching for ``_`` or ``%`` means those characters."""
    text = (search or "").strip().lower()
    if not text:
        return query
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return query.where(or_(Subscriber.email_key.like(pattern, escape="\\"),
                           func.lower(Subscriber.name).like(pattern, escape="\\")))


def consent_history(session: Session, subscriber: Subscriber) -> list[ConsentEvent]:
    """The ledger lines of a subscriber, oldest first."""
    return list(session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)))


@dataclass(frozen=True)
class DeliveryLine:
    """One issue sent (or being sent) to a subscriber, and where its mail stands."""

    issue_id: str
    subject: str
    state: str
    attempts: int
    sent_at: datetime | None
    reason: str | None
    updated_at: datetime


def deliveries_of(session: Session, subscriber: Subscriber) -> list[DeliveryLine]:
    """The deliveries of every issue to a subscriber, newest campaign first."""
    rows = session.execute(
        select(Campaign.issue_id, Campaign.subject, Delivery.state, Delivery.attempts,
               Delivery.sent_at, Delivery.reason, Delivery.updated_at)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(Campaign.audience_frozen_at.desc(), Campaign.id.desc()))
    return [DeliveryLine(*row) for row in rows]


@dataclass(frozen=True)
class ListStats:
    by_status: dict[str, int]
    by_municipality: dict[str | None, dict[str, int]]
    by_subregion: dict[str | None, dict[str, int]]
    suppressed: int
    total: int = field(default=0)


def list_stats(session: Session) -> ListStats:
    """Counts by status, and by municipality and subregion (each split by status)."""
    by_status: Counter[str] = Counter()
    by_municipality: dict[str | None, Counter[str]] = {}
    by_subregion: dict[str | None, Counter[str]] = {}
    rows = session.execute(
        select(Subscriber.status, Subscriber.municipality, Subscriber.subregion, func.count())
        .group_by(Subscriber.status, Subscriber.municipality, Subscriber.subregion))
    for status, municipality, subregion, count in rows:
        by_status[status] += count
        if status == SubscriberStatus.ERASED:
            continue
        by_municipality.setdefault(municipality, Counter())[status] += count
        by_subregion.setdefault(subregion, Counter())[status] += count
    suppressed = session.scalar(select(func.count()).select_from(Suppression)) or 0
    return ListStats(
        by_status={s.value: by_status.get(s.value, 0) for s in SubscriberStatus},
        by_municipality={k: dict(v) for k, v in by_municipality.items()},
        by_subregion={k: dict(v) for k, v in by_subregion.items()},
        suppressed=suppressed,
        total=sum(by_status.values()),
    )
