"""Release: an issue's lifecycle between the editor and the list, kept in the database.

``draft → approved → scheduled → sending → sent`` (with ``paused``, ``cancelled``, ``missed``).

- ``approval``: the content hash of a compiled issue, ``approve`` (who approved which content)
  and ``approval_problem`` (why an issue may not go out now);
- ``plan``: ``schedule_issue``, ``unschedule``, ``cancel``, ``upcoming`` (the ``jobs`` list),
  ``due_sends`` and ``mark`` (the state moves the send door and the scheduler make);
- ``records``: the ``issue_releases`` rows read and written (one place for the SQL).
"""

from __future__ import annotations

from digiweetjes.release.approval import Approval, approval_problem, approve, content_hash
from digiweetjes.release.plan import (
    DueSend,
    UpcomingSend,
    cancel,
    due_sends,
    mark,
    schedule_issue,
    unschedule,
    upcoming,
)
from digiweetjes.release.records import ReleaseInfo, get_release

__all__ = [
    "Approval",
    "DueSend",
    "ReleaseInfo",
    "UpcomingSend",
    "approval_problem",
    "approve",
    "cancel",
    "content_hash",
    "due_sends",
    "get_release",
    "mark",
    "schedule_issue",
    "unschedule",
    "upcoming",
]
