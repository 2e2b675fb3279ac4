"""The two writes every change of consent makes: a ledger line, and the suppression entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from digiweetjes.config import Settings
from digiweetjes.db import Executor
from digiweetjes.models import (
    ConsentEvent,
    ConsentEventType,
    Source,
    Subscriber,
    Suppression,
    SuppressionReason,
)
from digiweetjes.subscribers.driver import DriverSQL, run
from digiweetjes.subscribers.hashing import Hasher


def record_consent(session: Session, settings: Settings, hasher: Hasher, now: datetime,
                   subscriber: Subscriber | None, event: ConsentEventType, source: Source, *,
                   email: str | None = None, email_hash: str | None = None,
                   ip: str | None = None, detail: str | None = None,
                   notice: bool = False) -> ConsentEvent:
    """Append one line to the consent ledger (the IP only as a keyed hash)."""
    row = ConsentEvent(
        subscriber_id=subscriber.id if subscriber else None,
        email=email if email is not None else (subscriber.email if subscriber else None),
        email_hash=email_hash or (subscriber.email_hash if subscriber else None),
        event=event,
        occurred_at=now,
        source=source,
        # The version of the privacy notice shown when the person acted (consent events only).
        privacy_notice_version=settings.privacy_notice_version if notice else None,
        ip_hash=hasher.ip(ip),
        detail=detail,
    )
    session.add(row)
    return row


def consent_row(settings: Settings, hasher: Hasher, now: datetime, event: ConsentEventType,
                source: Source, *, subscriber_id: int | None, email: str | None,
                email_hash: str, ip: str | None = None, detail: str | None = None,
                notice: bool = False) -> dict[str, object]:
    """The values of one ledger line, as ``record_consent`` writes them (for a Core insert)."""
    return {"subscriber_id": subscriber_id, "email": email, "email_hash": email_hash,
            "event": event, "occurred_at": now, "source": source,
            "privacy_notice_version": settings.privacy_notice_version if notice else None,
            "ip_hash": hasher.ip(ip), "detail": detail}


#: How the ledger's detail starts for someone added on a stated consent source (an admin's
#: add or an import; ``trends`` counts the adds by it).
CONSENT_SOURCE_DETAIL = "toestemming: "
#: At the driver's level (``driver``): the one-click path's ledger line and suppression.
_INSERT_CONSENT = DriverSQL(
    "INSERT INTO consent_events (subscriber_id, email, email_hash, event, occurred_at, source, "
    "privacy_notice_version, ip_hash, detail) VALUES (:subscriber_id, :email, :email_hash, "
    ":event, :occurred_at, :source, :privacy_notice_version, :ip_hash, :detail)")
_UPSERT_SUPPRESSION = DriverSQL(
    "INSERT INTO suppressions (email_hash, reason, source, created_at, updated_at) "
    "VALUES (:email_hash, :reason, :source, :created_at, :updated_at) "
    "ON CONFLICT (email_hash) DO UPDATE SET reason = excluded.reason, "
    "source = excluded.source, updated_at = excluded.updated_at "
    "WHERE suppressions.reason <> excluded.reason")


def insert_consent(session: Executor, values: dict[str, object]) -> None:
    """Append one ledger line from ``consent_row`` without an ORM object (the quick paths)."""
    run(session, _INSERT_CONSENT, values)


def upsert_suppression(session: Executor, email_hash: str, reason: SuppressionReason,
                       source: Source, now: datetime) -> None:
    """``suppress`` in one statement: insert, or update the reason when it differs. Below the
    ORM: a ``Suppression`` of this hash already loaded in the session is not refreshed."""
    run(session, _UPSERT_SUPPRESSION, {"email_hash": email_hash, "reason": reason,
                                       "source": source, "created_at": now, "updated_at": now})


def suppress(session: Session, email_hash: str, reason: SuppressionReason, source: Source,
             now: datetime) -> None:
    """Put an address hash on the suppression list, or update the reason it is there."""
    row = session.get(Suppression, email_hash)
    if row is None:
        session.add(Suppression(email_hash=email_hash, reason=reason, source=source,
                                created_at=now, updated_at=now))
    elif row.reason != reason:
        row.reason, row.source, row.updated_at = reason, source, now

