"""Approval by content: the hash of a compiled issue, who approved it, and whether it still holds.

The hash covers the issue as it is mailed: subject, preheader, audience, both parts with their
placeholders written by name, and the per-subregion Digibank blocks. Everything the draft,
``projects.yaml``, the templates and the settings put into the mail reaches it through those;
an edit that changes nothing in the mail (a comment, a project field no template shows) leaves
the approval standing. Front matter ``send_at`` and ``status`` are not content: they say when,
not what.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.content.source import IssueSource, read_issue, resolve_draft
from digiweetjes.db import Database
from digiweetjes.errors import DigiweetjesError, ReleaseError
from digiweetjes.models import Campaign, IssueState
from digiweetjes.release import records
from digiweetjes.release.wording import STATE_WORDS, approve_hint, moment
from digiweetjes.render import CompiledIssue, compile_issue
from digiweetjes.render.gate import check_compiled
from digiweetjes.render.templating import environment

#: Approving these would change what is (being) mailed: refused.
UNDER_WAY = (IssueState.SENDING, IssueState.SENT, IssueState.PAUSED)
#: States whose approval stands (as long as the content still has its hash).
APPROVED_STATES = frozenset(IssueState) - {IssueState.DRAFT, IssueState.CANCELLED}


def compile_current(settings: Settings, issue_id: str) -> tuple[IssueSource, CompiledIssue]:
    """The issue compiled from the files as they are now, templates included.

    The Jinja environments are cached without reloading (``render.templating``); a long-running
    process (the scheduler) must still see a template edited since, or an edit after approval
    would go unnoticed until a restart.
    """
    environment.cache_clear()
    source = read_issue(settings.issues_dir, issue_id)
    return source, compile_issue(source, settings)


def content_hash(compiled: CompiledIssue) -> str:
    """sha256 (hex) of what the issue mails; the same content compiled twice hashes the same."""
    content = {
        "issue_id": compiled.issue_id,
        "subject": compiled.subject,
        "preheader": compiled.preheader,
        "audience": compiled.audience.model_dump(mode="json"),
        # ``source`` writes the placeholders by name, without this compile's random nonce.
        "html": compiled.html.source,
        "text": compiled.text.source,
        "digibank_html": dict(sorted(compiled.digibank_html.items())),
        "digibank_text": dict(sorted(compiled.digibank_text.items())),
    }
    encoded = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Approval:
    """What ``approve`` recorded, and the schedule the front matter asked for."""

    issue_id: str
    content_hash: str
    approved_by: str
    approved_at: datetime
    #: The front matter's ``send_at`` when it scheduled the issue (None: not scheduled by it).
    scheduled_at: datetime | None
    #: Why the front matter's ``send_at`` was not used (it has passed), if it was not.
    schedule_note: str | None
    state: IssueState


def clean_name(by: str) -> str:
    """The approver's name, one line; ReleaseError if there is none."""
    name = " ".join(by.split())
    if not name:
        raise ReleaseError("--by: geef de naam van wie goedkeurt")
    if len(name) > 200:
        raise ReleaseError("--by: de naam is langer dan 200 tekens")
    return name


def approve(db: Database, settings: Settings, clock: Clock, issue_id: str, *,
            by: str, record: Callable[[Session], None] | None = None) -> Approval:
    """Record that ``by`` approved the issue's current content (its hash).

    The issue must pass the release gate (``digiweetjes check``); an issue being sent or sent
    is refused. A front matter ``send_at`` in the future schedules the issue at that time; an
    issue already scheduled keeps its time. ``record`` (the web app's audit line) runs in the
    transaction that stores the approval, so the two are committed together or not at all.
    """
    name = clean_name(by)
    source, compiled = compile_current(settings, issue_id)
    draft = source.draft
    problems = check_compiled(compiled)
    if problems:
        raise ReleaseError(f"{draft.display_path} haalt `digiweetjes check` niet; niet "
                           "goedgekeurd:\n" + "\n".join(f"{draft.display_path}: {p}"
                                                        for p in problems))
    digest = content_hash(compiled)
    now = clock.now()
    wanted = draft.meta.send_at
    with db.session(write=True) as session:
        if session.scalar(select(Campaign.id).where(Campaign.issue_id == draft.issue_id)):
            raise ReleaseError(f"{draft.issue_id} werd al (deels) verstuurd: wie de rest nog "
                               "krijgt, krijgt dezelfde inhoud; zet een wijziging dus terug in "
                               "plaats van opnieuw goed te keuren")
        current = records.get_row(session, draft.issue_id)
        state = IssueState(current.state) if current else IssueState.DRAFT
        if state in UNDER_WAY:
            raise ReleaseError(f"{draft.issue_id} is {STATE_WORDS[state]}: goedkeuren kan niet "
                               "meer")
        values: dict[str, object] = {"content_hash": digest, "approved_by": name,
                                     "approved_at": now, "reason": None}
        scheduled_at, note = None, None
        if state is IssueState.SCHEDULED:
            pass  # keeps its time; `unschedule` or `schedule` changes it
        elif wanted is not None and wanted > now:
            values.update(state=IssueState.SCHEDULED.value, send_at=wanted)
            scheduled_at = wanted
        else:
            values.update(state=IssueState.APPROVED.value, send_at=None)
            if wanted is not None:
                note = (f"send_at in de front matter ({moment(wanted)}) is voorbij: niet "
                        "ingepland; plan in met `digiweetjes schedule`")
        records.upsert(session, draft.issue_id, now, **values)
        final = IssueState(values.get("state", state))
        if record is not None:
            session.flush()
            record(session)
    return Approval(draft.issue_id, digest, name, now, scheduled_at, note, final)


def approval_problem(db: Database, settings: Settings, issue_id: str) -> str | None:
    """None when the issue is approved and its content still has the approved hash; else why
    not, in Dutch (for the send door, ``jobs`` and the scheduler's log)."""
    try:
        compiled = compile_current(settings, issue_id)[1]
    except DigiweetjesError as exc:
        return f"de inhoud kan niet gelezen worden: {exc}"
    return approval_problem_of(db, compiled)


def approval_problem_of(db: Database, compiled: CompiledIssue) -> str | None:
    """``approval_problem`` for an issue already compiled (the send door has it at hand)."""
    release = records.get_release(db, compiled.issue_id)
    return problem_of(release, content_hash(compiled), compiled.issue_id)


def problem_of(release: records.ReleaseInfo | None, digest: str, issue_id: str) -> str | None:
    """Why a release with content ``digest`` may not go out, or None."""
    if release is None or release.state is IssueState.DRAFT:
        return f"niet goedgekeurd: keur goed met {approve_hint(issue_id)}"
    if release.state is IssueState.CANCELLED:
        why = f" ({release.reason})" if release.reason else ""
        return f"geannuleerd{why}: keur opnieuw goed om te versturen"
    if release.content_hash != digest:
        when = moment(release.approved_at) if release.approved_at else "?"
        return (f"gewijzigd na goedkeuring door {release.approved_by} op {when}: opnieuw "
                f"goedkeuren met {approve_hint(issue_id)}")
    return None


def resolve_issue_id(settings: Settings, issue: str) -> str:
    """The issue id a path, file name, id or number names (ContentError if none)."""
    return resolve_draft(settings.issues_dir, issue).stem
