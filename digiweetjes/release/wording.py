"""How the release area writes moments and states for people (nl-BE, Brussels time)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime

from digiweetjes.config import TIMEZONE
from digiweetjes.models import IssueState
from digiweetjes.render.formatting import LOCALE

#: The states as editors read them.
STATE_WORDS = {
    IssueState.DRAFT: "niet goedgekeurd",
    IssueState.APPROVED: "goedgekeurd",
    IssueState.SCHEDULED: "ingepland",
    IssueState.SENDING: "wordt verstuurd",
    IssueState.SENT: "verstuurd",
    IssueState.PAUSED: "gepauzeerd",
    IssueState.CANCELLED: "geannuleerd",
    IssueState.MISSED: "gemist",
}


def moment(value: datetime, tz: str = TIMEZONE) -> str:
    """``dinsdag 8 december 2026 om 09:00`` (Brussels time)."""
    return format_datetime(value, format="EEEE d MMMM y 'om' HH:mm", tzinfo=tz, locale=LOCALE)


def approve_hint(issue_id: str) -> str:
    return f"`digiweetjes approve {issue_id} --by NAAM`"
