"""What the page of one issue shows, gathered from the domain in one worker-thread call: the
release row, the release gate, whether the approval still holds, and the delivery status.

Nothing is decided here that the CLI decides elsewhere: ``check_issue`` is the gate of
``digiweetjes check``, ``approval_problem`` the send door's verdict, ``campaign_status`` and
``campaigns.problems`` what ``digiweetjes status`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digiweetjes.config import BRUSSELS
from digiweetjes.content.source import read_issue
from digiweetjes.errors import DigiweetjesError
from digiweetjes.models import IssueState
from digiweetjes.release import get_release
from digiweetjes.release.approval import APPROVED_STATES, approval_problem
from digiweetjes.release.overview import draft_exists, state_of
from digiweetjes.release.records import ReleaseInfo
from digiweetjes.release.wording import approve_hint
from digiweetjes.render.gate import check_issue
from digiweetjes.render.templating import environment
from digiweetjes.sending import campaigns
from digiweetjes.sending.campaigns import FAILED, UNCERTAIN
from digiweetjes.sending.service import CampaignStatus, campaign_status
from digiweetjes.web.context import WebContext
from digiweetjes.web.errors import ErrorText

NOT_FOUND = ErrorText("Dit nummer bestaat niet", (
    "Er is geen editie met deze naam in de map met edities, en ze werd ook nooit verstuurd.",
    "Kies een nummer uit de lijst van de nummers."))
#: The delivery states as the page names them.
DELIVERY_WORDS = {
    "queued": "in de wachtrij",
    "sending": "wordt verstuurd",
    "sent": "verstuurd",
    "failed": "mislukt",
    "uncertain": "onzeker",
    "suppressed": "overgeslagen (intussen van de lijst)",
}
#: Problem deliveries a page of the delivery status lists.
PAGE_SIZE = 50
#: The preview's widths: a phone and a desktop mail client's reading pane.
PREVIEW_WIDTHS = (375, 800)


@dataclass(frozen=True)
class Problem:
    """A failed or uncertain delivery; ``email`` only for admins (editors see no addresses)."""

    state: str
    delivery_id: str
    email: str | None
    reason: str | None


@dataclass(frozen=True)
class Delivery:
    """The delivery status of a sent (or sending) issue, one page of its problems."""

    status: CampaignStatus
    #: The subject it was sent with.
    subject: str
    problems: list[Problem]
    page: int
    pages: int


@dataclass(frozen=True)
class IssueView:
    """Everything the issue page shows."""

    issue_id: str
    title: str
    number: int | None
    preheader: str | None
    has_draft: bool
    release: ReleaseInfo | None
    state: IssueState
    #: The gate's problems (empty: passes); None when there is no draft to check.
    gate: list[str] | None
    #: Why the approval does not hold now ("gewijzigd na goedkeuring ..."), if approved.
    approval_problem: str | None
    #: The schedule form's value: the scheduled time, else the front matter's send_at.
    schedule_value: str
    delivery: Delivery | None

    @property
    def may_approve(self) -> bool:
        return self.has_draft and self.state not in (IssueState.SENDING, IssueState.SENT,
                                                     IssueState.PAUSED)

    @property
    def may_schedule(self) -> bool:
        return (self.has_draft and self.state in (IssueState.APPROVED, IssueState.SCHEDULED,
                                                  IssueState.MISSED)
                and self.approval_problem is None)

    @property
    def may_unschedule(self) -> bool:
        return self.state is IssueState.SCHEDULED


def local_input(moment: datetime) -> str:
    """A moment as a ``datetime-local`` field shows it: Brussels wall-clock time."""
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M")


def issue_view(context: WebContext, issue_id: str, *, page: int = 1,
               show_addresses: bool = False) -> IssueView:
    """The issue page's content (blocking: call it in a worker thread)."""
    settings, db = context.settings, context.db
    release = get_release(db, issue_id)
    delivery = _delivery(context, issue_id, page, show_addresses)
    campaign = delivery.status.campaign if delivery else None
    state = state_of(release.state.value if release else None,
                     campaign.state if campaign else None)
    has_draft = draft_exists(settings, issue_id)
    title = delivery.subject if delivery else issue_id
    number, preheader, wanted = None, None, None
    gate: list[str] | None = None
    problem: str | None = None
    if has_draft:
        # A long-running server must see templates edited since its start (as the preview
        # and the send door do): the Jinja environments never reload by themselves.
        environment.cache_clear()
        report = check_issue(settings.issues_dir / f"{issue_id}.md", settings)
        gate = list(report.problems)
        try:
            draft = read_issue(settings.issues_dir, issue_id).draft
            title, number, wanted = draft.meta.title, draft.meta.number, draft.meta.send_at
            preheader = draft.meta.preheader
        except DigiweetjesError:
            pass  # the gate lists why
        if release is not None and state in APPROVED_STATES:
            problem = approval_problem(db, settings, issue_id)
            if problem:  # the page has a button for what the CLI's hint says to type
                problem = problem.replace(approve_hint(issue_id),
                                          "de knop \"Opnieuw goedkeuren\" hieronder")
    moment = release.send_at if release and release.send_at else wanted
    return IssueView(issue_id, title, number, preheader, has_draft, release, state,
                     gate, problem, local_input(moment) if moment else "", delivery)


def _delivery(context: WebContext, issue_id: str, page: int,
              show_addresses: bool) -> Delivery | None:
    status = campaign_status(context.db, issue_id, limit=0)
    if status is None:
        return None
    total = status.counts[FAILED] + status.counts[UNCERTAIN]
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = campaigns.problems(context.db, status.campaign.id, (FAILED, UNCERTAIN),
                              limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    problems = [Problem(state, delivery_id, email if show_addresses else None, reason)
                for state, email, delivery_id, reason in rows]
    return Delivery(status, campaigns.subject_of(context.db, status.campaign.id), problems,
                    page, pages)
