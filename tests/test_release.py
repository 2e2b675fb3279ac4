"""The release gate's domain: content hash, approval, schedule, unschedule, cancel, mark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.content.source import read_issue
from digiweetjes.db import Database
from digiweetjes.errors import ReleaseError
from digiweetjes.models import IssueState
from digiweetjes.release import (
    approval_problem,
    approve,
    cancel,
    content_hash,
    due_sends,
    get_release,
    mark,
    schedule_issue,
    unschedule,
    upcoming,
)
from digiweetjes.release.approval import compile_current
from digiweetjes.render import compile_issue
from tests.release_support import EARLY, SAMPLE_ID, own_issues

SENDS_AT = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)   # the sample's send_at, 09:00 Brussels


def _hash(settings: Settings) -> str:
    return content_hash(compile_current(settings, SAMPLE_ID)[1])


@pytest.fixture
def mine(db_settings: Settings, tmp_path: Path) -> Settings:
    return own_issues(db_settings, tmp_path, templates=True)


def test_the_hash_is_stable_across_compiles(settings: Settings) -> None:
    first = compile_issue(read_issue(settings.issues_dir, SAMPLE_ID), settings)
    second = compile_issue(read_issue(settings.issues_dir, SAMPLE_ID), settings)
    assert content_hash(first) == content_hash(second)
    assert len(content_hash(first)) == 64


@pytest.mark.parametrize("edit", ["draft", "template", "projects"])
def test_the_hash_follows_every_source(settings: Settings, tmp_path: Path, edit: str) -> None:
    mine = own_issues(settings, tmp_path, templates=True)
    before = _hash(mine)
    target, old, new = {
        "draft": (mine.issues_dir / f"{SAMPLE_ID}.md", "Waarom dit", "Waarom nu dit"),
        "template": (mine.templates_dir / "email" / "issue.txt.j2", "Lees dit", "Lees nu dit"),
        "projects": (mine.projects_path, "Digibanken", "Digibanken (vernieuwd)"),
    }[edit]
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert _hash(mine) != before


def test_the_hash_ignores_status_and_send_time(settings: Settings, tmp_path: Path) -> None:
    mine = own_issues(settings, tmp_path)
    before = _hash(mine)
    path = mine.issues_dir / f"{SAMPLE_ID}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: approved", "status: draft")
                    .replace("send_at: 2026-12-05 09:00", "send_at: 2026-12-06 10:00"),
                    encoding="utf-8")
    assert _hash(mine) == before


def test_approve_records_who_and_schedules_the_front_matter_time(db: Database,
                                                                  mine: Settings) -> None:
    assert approval_problem(db, mine, SAMPLE_ID).startswith("niet goedgekeurd")
    approval = approve(db, mine, FixedClock(EARLY), SAMPLE_ID, by="  An  Peeters ")
    assert approval.approved_by == "An Peeters"
    assert approval.scheduled_at == SENDS_AT
    assert approval.state is IssueState.SCHEDULED
    release = get_release(db, SAMPLE_ID)
    assert release is not None and release.content_hash == _hash(mine)
    assert release.send_at == SENDS_AT and release.approved_at == EARLY
    assert approval_problem(db, mine, SAMPLE_ID) is None


def test_approve_after_the_front_matter_time_only_approves(db: Database, mine: Settings) -> None:
    approval = approve(db, mine, FixedClock(SENDS_AT + timedelta(hours=1)), "1", by="An")
    assert approval.state is IssueState.APPROVED and approval.scheduled_at is None
    assert approval.schedule_note and "voorbij" in approval.schedule_note


def test_approve_requires_check(db: Database, mine: Settings) -> None:
    path = mine.issues_dir / f"{SAMPLE_ID}.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n[klik hier](https://example.be)\n",
                    encoding="utf-8")
    with pytest.raises(ReleaseError, match="haalt `digiweetjes check` niet"):
        approve(db, mine, FixedClock(EARLY), SAMPLE_ID, by="An")
    assert get_release(db, SAMPLE_ID) is None


def test_an_edit_after_approval_voids_it(db: Database, mine: Settings) -> None:
    approve(db, mine, FixedClock(EARLY), SAMPLE_ID, by="An Peeters")
    path = mine.issues_dir / f"{SAMPLE_ID}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Waarom dit", "Waarom nu dit"),
                    encoding="utf-8")
    problem = approval_problem(db, mine, SAMPLE_ID)
    assert problem is not None
    assert problem.startswith("gewijzigd na goedkeuring door An Peeters op zondag 1 november "
                              "2026 om 10:00")
    assert "opnieuw goedkeuren" in problem
    [due] = due_sends(db, mine, SENDS_AT)
    assert due.issue_id == SAMPLE_ID and due.problem == problem
    [job] = upcoming(db, mine, FixedClock(EARLY))
    assert job.problem == problem and job.subject.startswith("Digi-weetje 1")


def test_schedule_unschedule_and_cancel(db: Database, mine: Settings) -> None:
    clock = FixedClock(SENDS_AT + timedelta(hours=1))
    approve(db, mine, clock, SAMPLE_ID, by="An")
    later = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    release = schedule_issue(db, mine, clock, SAMPLE_ID, later)
    assert (release.state, release.send_at) == (IssueState.SCHEDULED, later)
    assert due_sends(db, mine, later - timedelta(seconds=1)) == []
    assert [d.issue_id for d in due_sends(db, mine, later)] == [SAMPLE_ID]
    release = unschedule(db, clock, SAMPLE_ID)
    assert (release.state, release.send_at) == (IssueState.APPROVED, None)
    with pytest.raises(ReleaseError, match="niet ingepland"):
        unschedule(db, clock, SAMPLE_ID)
    release = cancel(db, clock, SAMPLE_ID)
    assert release.state is IssueState.CANCELLED
    assert approval_problem(db, mine, SAMPLE_ID).startswith("geannuleerd")
    with pytest.raises(ReleaseError, match="geannuleerd"):
        schedule_issue(db, mine, clock, SAMPLE_ID, later)


def test_schedule_refuses_bad_requests(db: Database, mine: Settings) -> None:
    clock = FixedClock(SENDS_AT + timedelta(hours=1))
    with pytest.raises(ReleaseError, match="niet goedgekeurd"):
        schedule_issue(db, mine, clock, SAMPLE_ID, clock.now() + timedelta(days=1))
    approve(db, mine, clock, SAMPLE_ID, by="An")
    before = get_release(db, SAMPLE_ID)
    with pytest.raises(ReleaseError, match="is voorbij"):
        schedule_issue(db, mine, clock, SAMPLE_ID, clock.now() - timedelta(minutes=1))
    assert get_release(db, SAMPLE_ID) == before


def test_mark_follows_the_lifecycle(db: Database, mine: Settings) -> None:
    clock = FixedClock(EARLY)
    approve(db, mine, clock, SAMPLE_ID, by="An")
    assert mark(db, clock, SAMPLE_ID, IssueState.MISSED, "te laat").state is IssueState.MISSED
    with pytest.raises(ReleaseError, match="gemist"):
        mark(db, clock, SAMPLE_ID, IssueState.MISSED)  # only once
    with pytest.raises(ReleaseError, match="kan niet naar 'verstuurd'"):
        mark(db, clock, SAMPLE_ID, IssueState.SENT)
    assert mark(db, clock, SAMPLE_ID, IssueState.SENDING).state is IssueState.SENDING
    assert mark(db, clock, SAMPLE_ID, IssueState.SENT).state is IssueState.SENT
    with pytest.raises(ReleaseError, match="goedkeuren kan niet meer"):
        approve(db, mine, clock, SAMPLE_ID, by="An")
