"""Every issue the editors know of, with where it stands: the drafts in the issues folder and
the issues sent or approved whose draft has since gone (the database still knows them).

For the editors' web pages (``/beheer/nummers``): one read of the folder, one of the
``issue_releases`` rows and one of the campaigns; no draft is compiled here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from digiweetjes.config import Settings
from digiweetjes.content.drafts import DRAFT_NAME
from digiweetjes.content.source import list_drafts, read_each_draft
from digiweetjes.db import Database
from digiweetjes.errors import ContentError
from digiweetjes.models import Campaign, Delivery, IssueRelease, IssueState


@dataclass(frozen=True)
class IssueLine:
    """One issue as the list shows it."""

    issue_id: str
    #: The draft's date (from its front matter, else its file name); None without either.
    date: date | None
    number: int | None
    title: str
    state: IssueState
    send_at: datetime | None
    approved_by: str | None
    #: False when the draft file is gone (a sent issue whose file was removed).
    has_draft: bool
    #: Why the draft cannot be read (file, line, field), if it cannot.
    problem: str | None
    #: Deliveries by state when the issue has a campaign, else None.
    deliveries: dict[str, int] | None


#: The state shown for an issue that has a campaign but no release row (sent before releases
#: were recorded, or by hand): what its campaign says.
CAMPAIGN_STATES = {"sending": IssueState.SENDING, "paused": IssueState.PAUSED,
                   "done": IssueState.SENT}


def state_of(release_state: str | None, campaign_state: str | None) -> IssueState:
    """An issue's state: its release row's, else its campaign's, else a draft."""
    if release_state is not None:
        return IssueState(release_state)
    if campaign_state is not None:
        return CAMPAIGN_STATES.get(campaign_state, IssueState.SENT)
    return IssueState.DRAFT


def is_issue_id(value: str) -> bool:
    """Whether ``value`` has the shape of an issue id (``<date>-<slug>``): the pages take ids
    only, never paths."""
    return len(value) <= 200 and DRAFT_NAME.match(value + ".md") is not None


def draft_exists(settings: Settings, issue_id: str) -> bool:
    """Whether the issues folder holds the draft of ``issue_id`` (a valid id only)."""
    return is_issue_id(issue_id) and any(p.stem == issue_id
                                         for p in list_drafts(settings.issues_dir))


def known_issue(db: Database, settings: Settings, issue_id: str) -> bool:
    """An issue the pages can show: its draft exists, or the database has a row for it."""
    if not is_issue_id(issue_id):
        return False
    if draft_exists(settings, issue_id):
        return True
    with db.session() as session:
        return (session.get(IssueRelease, issue_id) is not None
                or session.scalar(select(Campaign.id).where(Campaign.issue_id == issue_id))
                is not None)


def list_issues(db: Database, settings: Settings) -> list[IssueLine]:
    """Every issue, newest first (by date, then id)."""
    with db.session() as session:
        releases = {row.issue_id: row for row in session.scalars(select(IssueRelease))}
        campaigns = {row.issue_id: row for row in session.execute(
            select(Campaign.issue_id, Campaign.subject, Campaign.state))}
        subjects = {issue_id: row.subject for issue_id, row in campaigns.items()}
        counts: dict[str, dict[str, int]] = {}
        for issue_id, state, count in session.execute(
                select(Campaign.issue_id, Delivery.state, func.count())
                .join(Delivery, Delivery.campaign_id == Campaign.id)
                .group_by(Campaign.issue_id, Delivery.state)):
            counts.setdefault(issue_id, {})[state] = count
    lines: dict[str, IssueLine] = {}
    try:
        drafts = read_each_draft(settings.issues_dir)
    except ContentError as exc:  # projects.yaml does not load: list the files, say why
        drafts = [(path, exc) for path in list_drafts(settings.issues_dir)]
    for path, loaded in drafts:
        issue_id = path.stem
        release = releases.get(issue_id)
        campaign = campaigns.get(issue_id)
        state = state_of(release.state if release else None,
                         campaign.state if campaign else None)
        name_date = date.fromisoformat(issue_id[:10])
        if isinstance(loaded, ContentError):
            lines[issue_id] = IssueLine(
                issue_id, name_date, None, subjects.get(issue_id, issue_id), state,
                release.send_at if release else None, release.approved_by if release else None,
                True, str(loaded), _counts(counts, subjects, issue_id))
            continue
        meta = loaded.meta
        lines[issue_id] = IssueLine(
            issue_id, meta.date, meta.number, meta.title, state,
            release.send_at if release else None, release.approved_by if release else None,
            True, None, _counts(counts, subjects, issue_id))
    for issue_id in set(releases) | set(subjects):
        if issue_id in lines:
            continue
        release = releases.get(issue_id)
        campaign = campaigns.get(issue_id)
        lines[issue_id] = IssueLine(
            issue_id, _date_of(issue_id), None, subjects.get(issue_id, issue_id),
            state_of(release.state if release else None, campaign.state if campaign else None),
            release.send_at if release else None, release.approved_by if release else None,
            False, None, _counts(counts, subjects, issue_id))
    return sorted(lines.values(), key=lambda line: (line.date or date.min, line.issue_id),
                  reverse=True)


def _counts(counts: dict[str, dict[str, int]], subjects: dict[str, str],
            issue_id: str) -> dict[str, int] | None:
    return dict(counts.get(issue_id, {})) if issue_id in subjects else None


def _date_of(issue_id: str) -> date | None:
    try:
        return date.fromisoformat(issue_id[:10])
    except ValueError:
        return None
