"""Release: an issue's lifecycle between the editor and the list, kept in the database.

``draft → approved → scheduled → sending → sent`` (with ``paused``, ``cancelled``, ``missed``).

- ``approval``: the content hash of a compiled issue, ``approve`` (who approved which content)
  and ``approval_problem`` (why an issue may not go out now);
- ``plan``: ``schedule_issue``, ``unschedule``, ``cancel``, ``upcoming`` (the ``jobs`` list),
  ``due_sends`` and ``mark`` (the state moves the send door and the scheduler make);
- ``lifecycle``: the send door's moves (sending, then sent or paused);
- ``sent_copy``: what a campaign sends, stored with it when its audience is frozen;
- ``localtime``: Brussels times as editors type them, DST gaps and repeats refused;
- ``records``: the ``issue_releases`` rows read and written (one place for the SQL);
- ``wording``: moments and states in Dutch.

The scheduler decides *when* with ``due_sends`` and ``mark``, and sends through the one door,
``sending.service.send_issue``, which checks ``approval_problem`` itself.
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
