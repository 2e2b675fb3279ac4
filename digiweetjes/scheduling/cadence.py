"""The regular cadence (``DIGIWEETJES_SCHEDULE_CADENCE``) and Brussels wall-clock times.

Two spellings, both read in the scheduler's time zone (Europe/Brussels):

* ``first tuesday 09:00`` — an ordinal (``first``, ``second``, ``third``, ``fourth``, ``fifth``,
  ``last``) or ``every``, an English weekday, and a 24-hour time: monthly (or weekly);
* a five-field cron expression (``0 9 * * tue``: minute hour day month weekday).

Times are wall-clock times, so a 09:00 cadence stays 09:00 in Brussels across the switches to
and from summer time. Two wall-clock times need a rule, which ``wall_clock`` applies everywhere
(the cadence, ``send_at`` in a draft, ``schedule --at``), the same rule as Python's zoneinfo and
APScheduler: a time that does not exist (02:30 on the last Sunday of March) is moved on by the
hour that is skipped (03:30 summer time); a time that happens twice (02:30 on the last Sunday of
October) is its first occurrence (summer time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from digiweetjes.errors import ConfigError

VARIABLE = "DIGIWEETJES_SCHEDULE_CADENCE"
ORDINALS = {"first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
            "last": "last"}
WEEKDAYS = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
            "friday": "fri", "saturday": "sat", "sunday": "sun"}
_SPOKEN = re.compile(r"^(?P<which>[a-z]+)\s+(?P<day>[a-z]+)\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
EXAMPLE = "'first tuesday 09:00' of een cron-uitdrukking als '0 9 * * tue'"


@dataclass(frozen=True)
class Cadence:
    """A regular send time; ``text`` is what was configured (shown in logs and ``jobs``)."""

    text: str
    trigger: CronTrigger

    def next_after(self, moment: datetime) -> datetime:
        """The first cadence time strictly after ``moment``, in UTC."""
        found = self.trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        assert found is not None  # a cron trigger without an end date always has a next time
        return found.astimezone(UTC)

    def last_at_or_before(self, moment: datetime, *, horizon: timedelta) -> datetime | None:
        """The latest cadence time in (``moment`` - ``horizon``, ``moment``], in UTC."""
        found = None
        probe = self.next_after(moment - horizon)
        while probe <= moment:
            found = probe
            probe = self.next_after(probe)
        return found


def parse_cadence(text: str, zone: ZoneInfo) -> Cadence:
    """``text`` as a cadence; ConfigError (Dutch, naming the variable) when it is not one."""
    cleaned = " ".join(text.strip().lower().split())
    spoken = _SPOKEN.match(cleaned)
    try:
        if spoken:
            trigger = _spoken_trigger(spoken, zone)
        elif len(cleaned.split()) == 5:
            trigger = CronTrigger.from_crontab(cleaned, timezone=zone)
        else:
            raise ValueError("unknown form")
    except ValueError as exc:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ConfigError(f"{VARIABLE}: {shown!r} is geen geldig ritme; schrijf bijvoorbeeld "
                          f"{EXAMPLE}") from exc
    return Cadence(cleaned, trigger)


def _spoken_trigger(found: re.Match[str], zone: ZoneInfo) -> CronTrigger:
    which, day = found["which"], found["day"]
    hour, minute = int(found["hour"]), int(found["minute"])
    if day not in WEEKDAYS or not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(day)
    if which == "every":
        return CronTrigger(day_of_week=WEEKDAYS[day], hour=hour, minute=minute, timezone=zone)
    if which not in ORDINALS:
        raise ValueError(which)
    return CronTrigger(day=f"{ORDINALS[which]} {WEEKDAYS[day]}", hour=hour, minute=minute,
                       timezone=zone)


def wall_clock(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``zone`` as a UTC moment, by the rule in the docstring."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def wall_clock_note(local: datetime, zone: ZoneInfo) -> str | None:
    """Why a naive wall-clock time in ``zone`` is not simply itself (Dutch), or None."""
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    shown = f"{local:%d-%m-%Y %H:%M}"
    moved = first.astimezone(UTC).astimezone(zone)
    if moved.replace(tzinfo=None) != local:
        return (f"{shown} bestaat niet (de klok springt vooruit naar zomertijd); dat wordt "
                f"{moved:%H:%M} zomertijd")
    return f"{shown} komt twee keer voor (de klok gaat terug); het eerste, in zomertijd, telt"
