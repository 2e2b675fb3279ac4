"""Reading the list: the admin filters, listing, a subscriber's consent history, counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from digiweetjes.models import ConsentEvent, Subscriber, SubscriberStatus, Suppression


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
    query = subscriber_query(status=status, municipality=municipality, subregion=subregion,
                             topic=topic)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(Subscriber.email_key.like(pattern),
                                func.lower(Subscriber.name).like(pattern)))
    query = query.order_by(Subscriber.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def consent_history(session: Session, subscriber: Subscriber) -> list[ConsentEvent]:
    """The ledger lines of a subscriber, oldest first."""
    return list(session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)))


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
