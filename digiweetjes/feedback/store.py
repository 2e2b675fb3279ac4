"""The ``webhook_events`` rows of one batch: claimed once, linked to deliveries, finished.

Claiming is one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per chunk: an event stored
before (a provider's retry, a replay, the same event arriving twice at once) returns no row and
is not applied again. Two transactions inserting the same event at once are ordered by the
unique index: on PostgreSQL the second waits for the first and then inserts nothing; SQLite
lets only one writer in at a time. The insert is the transaction's first statement, so a
SQLite transaction takes the write lock at once (a read first could fail to upgrade).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digiweetjes.feedback.events import Outcome, ProviderEvent, clean_detail
from digiweetjes.models import Delivery, Subscriber, WebhookEvent

#: Rows an INSERT (11 values each) or values an IN list; well under SQLite's variable limit.
CHUNK = 400
T = TypeVar("T")

#: (provider, event key): how an event is known.
EventId = tuple[str, str]


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def claim(session: Session, events: Sequence[ProviderEvent],
          email_hashes: Sequence[str | None], now: datetime) -> dict[EventId, int]:
    """Store the events not stored before; their ids by (provider, event key)."""
    dialect = session.get_bind().dialect.name
    insert = postgres_insert if dialect == "postgresql" else sqlite_insert
    claimed: dict[EventId, int] = {}
    rows = [{
        "provider": event.provider, "event_key": event.event_key, "kind": str(event.kind),
        "provider_event": event.provider_event[:60], "email_hash": email_hash,
        "reference": (event.reference or None) and event.reference[:64],
        "delivery_id": None, "outcome": str(Outcome.IGNORED),
        "detail": clean_detail(event.detail), "occurred_at": event.occurred_at,
        "received_at": now,
    } for event, email_hash in zip(events, email_hashes, strict=True)]
    if not rows:
        return claimed
    # One statement, executed for many rows: SQLAlchemy sends them as multi-row INSERTs
    # ("insertmanyvalues") and gathers RETURNING; a conflicting row returns nothing.
    statement = (insert(WebhookEvent)
                 .on_conflict_do_nothing(index_elements=["provider", "event_key"])
                 .returning(WebhookEvent.id, WebhookEvent.provider, WebhookEvent.event_key))
    for event_id, provider, event_key in session.connection().execute(statement, rows):
        claimed[(provider, event_key)] = event_id
    return claimed


def deliveries_by_reference(session: Session, references: Iterable[str]) -> dict[str, int]:
    """Delivery id by reference, for those references that name one of our deliveries."""
    wanted = sorted(set(references))
    found: dict[str, int] = {}
    for part in chunks(wanted):
        found.update((reference, delivery_id) for delivery_id, reference in session.execute(
            select(Delivery.id, Delivery.reference).where(Delivery.reference.in_(part))))
    return found


def deliveries_by_message_id(session: Session, message_ids: Iterable[str]
                             ) -> dict[str, list[tuple[int, str | None]]]:
    """(delivery id, the subscriber's address hash) by message id. SendGrid and Mailgun give
    one message id a batch request, so one id can name many deliveries."""
    wanted = sorted(set(message_ids))
    found: dict[str, list[tuple[int, str | None]]] = {}
    for part in chunks(wanted):
        for delivery_id, message_id, email_hash in session.execute(
                select(Delivery.id, Delivery.message_id, Subscriber.email_hash)
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(Delivery.message_id.in_(part))):
            found.setdefault(message_id, []).append((delivery_id, email_hash))
    return found


def subscribers_by_key(session: Session, keys: Iterable[str]) -> dict[str, Subscriber]:
    """The subscribers with these address keys, loaded into the session in a few queries."""
    wanted = sorted(set(keys))
    found: dict[str, Subscriber] = {}
    for part in chunks(wanted):
        for subscriber in session.scalars(select(Subscriber)
                                          .where(Subscriber.email_key.in_(part))):
            found[subscriber.email_key or ""] = subscriber
    return found


def earlier_soft_bounces(session: Session, email_hashes: Iterable[str]
                         ) -> dict[str, list[tuple[int, int | None, str, datetime]]]:
    """Stored soft bounces by address hash: (event row id, delivery id, event key, received)."""
    wanted = sorted(set(email_hashes))
    found: dict[str, list[tuple[int, int | None, str, datetime]]] = {}
    for part in chunks(wanted):
        for row_id, email_hash, delivery_id, event_key, received_at in session.execute(
                select(WebhookEvent.id, WebhookEvent.email_hash, WebhookEvent.delivery_id,
                       WebhookEvent.event_key, WebhookEvent.received_at)
                .where(WebhookEvent.email_hash.in_(part),
                       WebhookEvent.kind == "soft_bounce")):
            found.setdefault(email_hash, []).append(
                (row_id, delivery_id, event_key, received_at))
    return found


def finish(session: Session, results: Sequence[dict[str, Any]]) -> None:
    """Write each claimed event's outcome and delivery (``{"id", "outcome", "delivery_id"}``)."""
    changed = [row for row in results
               if row["outcome"] != Outcome.IGNORED or row["delivery_id"] is not None]
    if changed:
        # An executemany by primary key: one prepared statement for the whole batch.
        session.execute(update(WebhookEvent), [
            {"id": row["id"], "outcome": str(row["outcome"]), "delivery_id": row["delivery_id"]}
            for row in changed])
