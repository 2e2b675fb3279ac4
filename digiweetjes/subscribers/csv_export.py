"""Exporting the list as a CSV that Excel (nl-BE) opens correctly: UTF-8 with BOM, ``;``."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digiweetjes.config import TIMEZONE
from digiweetjes.models import Subscriber, SubscriberStatus
from digiweetjes.subscribers import subscriber_query
from digiweetjes.subscribers.topics import TOPICS

HEADERS = ("E-mailadres", "Naam", "Gemeente", "Subregio", "Interesses", "Taal", "Status",
           "Bron", "Toestemming", "Ingeschreven op", "Bevestigd op", "Uitgeschreven op")
# A cell Excel would run as a formula (CSV injection): shown as text with a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    # dd-mm-yyyy hh:mm is what Excel in nl-BE reads as a date and time.
    return moment.astimezone(zone).strftime("%d-%m-%Y %H:%M") if moment else ""


def export_csv(session: Session, out: TextIO, *, status: str | None = None,
               municipality: str | None = None, subregion: str | None = None,
               topic: str | None = None, timezone: str = TIMEZONE) -> int:
    """Write matching subscribers to ``out`` (opened with ``encoding="utf-8-sig"``, newline="")
    and return how many; erased tombstones are never exported."""
    zone = ZoneInfo(timezone)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    query = subscriber_query(status=status, municipality=municipality, subregion=subregion,
                             topic=topic).where(Subscriber.status != SubscriberStatus.ERASED)
    count = 0
    for subscriber in session.scalars(query.order_by(Subscriber.id)
                                      .execution_options(yield_per=1000)):
        writer.writerow((
            _text(subscriber.email), _text(subscriber.name), subscriber.municipality or "",
            subscriber.subregion or "",
            ", ".join(TOPICS.get(t, t) for t in subscriber.topics),
            subscriber.language, subscriber.status, subscriber.source,
            _text(subscriber.consent_note),
            _when(subscriber.created_at, zone), _when(subscriber.confirmed_at, zone),
            _when(subscriber.unsubscribed_at, zone),
        ))
        count += 1
    return count
