"""Moments editors type in Brussels time ("2026-12-08 09:00"), read without guessing."""

from __future__ import annotations

from datetime import UTC, datetime

from digiweetjes.config import BRUSSELS
from digiweetjes.errors import ReleaseError


def brussels_moment(text: str, *, field: str = "--at") -> datetime:
    """The aware moment ``text`` names: Brussels local time, or an explicit UTC offset.

    A local time that does not exist (the hour skipped on the last Sunday of March) or exists
    twice (the hour repeated on the last Sunday of October) is refused with what to write
    instead: a scheduled send must not move by an hour on a guess.
    """
    shown = text.strip()
    try:
        parsed = datetime.fromisoformat(shown)
    except ValueError:
        raise ReleaseError(f"{field}: {shown!r} is geen tijdstip; schrijf bijvoorbeeld "
                           "\"2026-12-08 09:00\" (Brusselse tijd)") from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    local = parsed.replace(tzinfo=BRUSSELS)
    round_trip = local.astimezone(UTC).astimezone(BRUSSELS).replace(tzinfo=None)
    if round_trip != parsed:
        raise ReleaseError(f"{field}: {shown} bestaat niet in Brussel (de klok springt die nacht "
                           "van 02:00 naar 03:00): kies een ander uur")
    earlier, later = local.replace(fold=0), local.replace(fold=1)
    if earlier.utcoffset() != later.utcoffset():
        raise ReleaseError(f"{field}: {shown} bestaat twee keer in Brussel (de klok gaat die nacht "
                           "van 03:00 terug naar 02:00): kies een ander uur, of geef de tijdzone "
                           f"mee, bv. \"{parsed:%Y-%m-%d %H:%M}+02:00\" (zomertijd) of "
                           f"\"{parsed:%Y-%m-%d %H:%M}+01:00\" (wintertijd)")
    return local.astimezone(UTC)
