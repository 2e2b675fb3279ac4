"""Sign-ups and unsubscribes per week, counted from the consent ledger (the dashboard's chart).

A *sign-up* is someone joining the list with consent: a confirmed double opt-in
(``confirmed``), a row of an import (``imported``), or an admin adding someone active on a
recorded consent source (``subscribed`` from ``admin`` with a consent source; one added
without it confirms later and is counted then). An *unsubscribe* is an ``unsubscribed`` line
(a link, one-click, a provider's list or an admin). Bounces and complaints are not people
choosing to leave; the dashboard shows them as rates of the sends instead.

Weeks run Monday to Sunday in the newsletter's time zone. The ledger lines of the period are
read as moments and bucketed here: the same on SQLite and PostgreSQL, and cheap (two columns
of the last half year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from digiweetjes.models import ConsentEvent, ConsentEventType, Source
from digiweetjes.subscribers.consent import CONSENT_SOURCE_DETAIL

#: How ``add_subscriber`` writes the detail of someone added active on a consent source (the
#: English form in ledger lines written before the CLI spoke Dutch).
_CONSENT_SOURCE_DETAILS = (f"{CONSENT_SOURCE_DETAIL}%", "consent source:%")


@dataclass(frozen=True)
class WeekCounts:
    """One week of the chart: its Monday, and how many joined and left in it."""

    monday: date
    signups: int
    unsubscribes: int


def weekly_changes(session: Session, now: datetime, zone: tzinfo, *,
                   weeks: int = 26) -> list[WeekCounts]:
    """The last ``weeks`` weeks, oldest first, the current (partial) week last."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    joined = or_(
        ConsentEvent.event.in_([ConsentEventType.CONFIRMED.value,
                                ConsentEventType.IMPORTED.value]),
        and_(ConsentEvent.event == ConsentEventType.SUBSCRIBED.value,
             ConsentEvent.source == Source.ADMIN.value,
             or_(*(ConsentEvent.detail.like(d) for d in _CONSENT_SOURCE_DETAILS))))
    left = ConsentEvent.event == ConsentEventType.UNSUBSCRIBED.value
    signups = [0] * weeks
    unsubscribes = [0] * weeks
    rows = session.execute(
        select(ConsentEvent.occurred_at, left.label("left"))
        .where(ConsentEvent.occurred_at >= start, ConsentEvent.occurred_at <= now,
               or_(joined, left)))
    for occurred_at, is_left in rows:
        index = (occurred_at.astimezone(zone).date() - first).days // 7
        if 0 <= index < weeks:
            (unsubscribes if is_left else signups)[index] += 1
    return [WeekCounts(first + timedelta(weeks=i), signups[i], unsubscribes[i])
            for i in range(weeks)]
