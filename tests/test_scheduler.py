"""The scheduler's decisions with an injected clock (no sleeping), on SQLite and PostgreSQL:
a send at its time, misfires inside and outside the grace time, an edit after approval, a
cancelled issue, a send stopped by SIGTERM and resumed, the regular cadence."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import BRUSSELS, Settings
from digiweetjes.db import Database
from digiweetjes.models import IssueState
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.release import cancel, get_release, schedule_issue, upcoming
from digiweetjes.scheduling import ScheduleOptions, parse_cadence, wall_clock
from tests.release_support import SAMPLE_ID
from tests.scheduler_support import READERS, SENDS_AT, mails, runtime_for, scheduled_sample


@pytest.fixture
def mine(db: Database, settings: Settings, tmp_path: Path) -> Settings:
    return scheduled_sample(db, settings, tmp_path)


def _state(db: Database) -> IssueState:
    release = get_release(db, SAMPLE_ID)
    assert release is not None
    return release.state


def test_an_issue_goes_out_at_its_time_once(db: Database, mine: Settings) -> None:
    clock = FixedClock(SENDS_AT - timedelta(minutes=1))
    runtime = runtime_for(db, mine, clock)
    assert _state(db) is IssueState.SCHEDULED
    assert runtime.check() == []
    assert mails(mine) == []
    clock.set(SENDS_AT)
    [decision] = runtime.check()
    assert decision.action == "sent"
    assert decision.message.startswith(f"verstuurd: {SAMPLE_ID} naar {READERS} abonnees")
    assert len(mails(mine)) == READERS
    assert _state(db) is IssueState.SENT
    assert (mine.site_dir / "archief" / f"{SAMPLE_ID}.html").exists()  # rebuilt after it
    clock.advance(hours=1)
    assert runtime.check() == []
    assert len(mails(mine)) == READERS  # never twice


def test_a_misfire_within_the_grace_time_is_sent(db: Database, mine: Settings) -> None:
    clock = FixedClock(SENDS_AT + timedelta(hours=5, minutes=59))
    [decision] = runtime_for(db, mine, clock).check()
    assert decision.action == "sent"
    assert len(mails(mine)) == READERS


def test_a_misfire_beyond_the_grace_time_is_marked_missed(
        db: Database, mine: Settings, caplog: pytest.LogCaptureFixture) -> None:
    clock = FixedClock(SENDS_AT + timedelta(hours=6, minutes=1))
    runtime = runtime_for(db, mine, clock)
    with caplog.at_level(logging.INFO, logger="digiweetjes.scheduler"):
        [decision] = runtime.check()
    assert decision.action == "missed"
    assert "gemist:" in caplog.text and "buiten de wachttijd van 6 uur" in caplog.text
    assert mails(mine) == []
    assert _state(db) is IssueState.MISSED
    clock.advance(hours=1)
    assert runtime.check() == []  # said once, never sent later
    assert mails(mine) == []


def test_the_grace_time_is_a_setting(db: Database, mine: Settings) -> None:
    shorter = mine.with_(schedule=ScheduleOptions(grace_hours=1))
    clock = FixedClock(SENDS_AT + timedelta(hours=2))
    [decision] = runtime_for(db, shorter, clock).check()
    assert decision.action == "missed"
    assert "buiten de wachttijd van 1 uur" in decision.message


def test_an_edit_after_approval_is_not_sent_and_says_why(
        db: Database, mine: Settings, caplog: pytest.LogCaptureFixture) -> None:
    draft = mine.issues_dir / f"{SAMPLE_ID}.md"
    draft.write_text(draft.read_text(encoding="utf-8").replace("Waarom dit", "Waarom nu dit"),
                     encoding="utf-8")
    clock = FixedClock(SENDS_AT)
    runtime = runtime_for(db, mine, clock)
    with caplog.at_level(logging.INFO, logger="digiweetjes.scheduler"):
        [decision] = runtime.check()
        clock.advance(minutes=1)
        runtime.check()
    assert decision.action == "skipped"
    assert decision.message.startswith(f"overgeslagen: {SAMPLE_ID}: gewijzigd na goedkeuring")
    assert caplog.text.count("overgeslagen:") == 1  # once per reason, not every minute
    assert mails(mine) == []
    [job] = upcoming(db, mine, clock)
    assert job.problem is not None and "gewijzigd na goedkeuring" in job.problem


def test_a_cancelled_issue_is_not_sent(db: Database, mine: Settings) -> None:
    clock = FixedClock(SENDS_AT - timedelta(hours=1))
    cancel(db, clock, SAMPLE_ID)
    clock.set(SENDS_AT)
    assert runtime_for(db, mine, clock).check() == []
    assert mails(mine) == []
    assert _state(db) is IssueState.CANCELLED


class _StopAfterFirstBatch(OutboxProvider):
    """The outbox, where SIGTERM arrives while the first batch is out."""

    def __init__(self, stop: threading.Event, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stop = stop

    def send_batch(self, batch):
        results = super().send_batch(batch)
        self.stop.set()
        return results


def test_a_stopped_send_resumes_where_it_stopped(db: Database, mine: Settings) -> None:
    clock = FixedClock(SENDS_AT)
    stop = threading.Event()
    runtime = runtime_for(db, mine, clock, send_stop=stop)
    runtime.provider_factory = lambda: _StopAfterFirstBatch(stop, mine.outbox_dir, clock=clock)
    runtime.due.send = _door(db, mine, clock, stop)
    [decision] = runtime.check()
    assert decision.action == "waiting" and decision.message.startswith("onderbroken:")
    assert len(mails(mine)) == 2  # one batch of two, then the stop
    assert _state(db) is IssueState.SENDING
    stop.clear()
    clock.advance(minutes=10)
    runtime.due.send = _door(db, mine, clock, None)
    [decision] = runtime.check()
    assert decision.action == "sent"
    assert len(mails(mine)) == READERS  # the other five; nobody twice
    assert _state(db) is IssueState.SENT


def _door(db, settings, clock, stop):
    from digiweetjes.scheduling.sender import door_sender

    if stop is None:
        return door_sender(db, settings, clock,
                           provider_factory=lambda: OutboxProvider(settings.outbox_dir,
                                                                   clock=clock))
    return door_sender(db, settings, clock, stop=stop,
                       provider_factory=lambda: _StopAfterFirstBatch(stop, settings.outbox_dir,
                                                                     clock=clock))


# -- Brussels time across the switches to and from summer time ------------------------------


def test_a_spring_night_time_that_does_not_exist_is_sent_an_hour_on(
        db: Database, mine: Settings) -> None:
    clock = FixedClock(datetime(2027, 3, 1, tzinfo=UTC))
    # 02:30 on the last Sunday of March 2027 does not exist: 03:30 summer time, 01:30 UTC.
    at = wall_clock(datetime(2027, 3, 28, 2, 30), BRUSSELS)
    assert at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    schedule_issue(db, mine, clock, SAMPLE_ID, at)
    runtime = runtime_for(db, mine, clock)
    clock.set(datetime(2027, 3, 28, 1, 29, tzinfo=UTC))
    assert runtime.check() == []
    clock.set(datetime(2027, 3, 28, 1, 30, tzinfo=UTC))
    assert [d.action for d in runtime.check()] == ["sent"]


def test_an_autumn_night_time_that_happens_twice_is_sent_the_first_time(
        db: Database, mine: Settings) -> None:
    clock = FixedClock(datetime(2027, 10, 1, tzinfo=UTC))
    at = wall_clock(datetime(2027, 10, 31, 2, 30), BRUSSELS)
    assert at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 summer time
    schedule_issue(db, mine, clock, SAMPLE_ID, at)
    runtime = runtime_for(db, mine, clock)
    clock.set(at)
    assert [d.action for d in runtime.check()] == ["sent"]
    clock.set(datetime(2027, 10, 31, 1, 30, tzinfo=UTC))  # 02:30 winter time: not again
    assert runtime.check() == []
    assert len(mails(mine)) == READERS


def test_the_cadence_schedules_the_waiting_issue_at_local_nine_across_dst(
        db: Database, settings: Settings, tmp_path: Path) -> None:
    # Approved after its own send_at: approved without a time, waiting for the cadence.
    mine = scheduled_sample(db, settings, tmp_path,
                            approved_at=datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    assert _state(db) is IssueState.APPROVED
    weekly = mine.with_(schedule=ScheduleOptions(
        cadence=parse_cadence("every sunday 09:00", BRUSSELS)))
    clock = FixedClock(datetime(2027, 3, 21, 8, 30, tzinfo=UTC))  # after the 21st's 09:00 CET
    runtime = runtime_for(db, weekly, clock)
    [decision] = runtime.check()
    assert decision.action == "scheduled"
    release = get_release(db, SAMPLE_ID)
    assert release is not None
    # Sunday 28 March 2027 is the switch to summer time: 09:00 is then 07:00 UTC.
    assert release.send_at == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    clock.set(datetime(2027, 3, 28, 7, 0, tzinfo=UTC))
    assert [d.action for d in runtime.check()] == ["sent"]


def test_the_cadence_warns_ahead_once_when_nothing_is_approved(
        db: Database, mine: Settings) -> None:
    cancel(db, FixedClock(SENDS_AT - timedelta(days=30)), SAMPLE_ID)
    monthly = mine.with_(schedule=ScheduleOptions(
        cadence=parse_cadence("first tuesday 09:00", BRUSSELS), warn_days=3))
    clock = FixedClock(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))  # next: Tuesday 5 January
    runtime = runtime_for(db, monthly, clock)
    assert runtime.check() == []  # four days ahead: not yet
    clock.set(datetime(2027, 1, 2, 9, 0, tzinfo=UTC))
    [warning] = runtime.check()
    assert warning.action == "warned"
    assert warning.message.startswith("waarschuwing: geen goedgekeurde editie voor dinsdag 5 "
                                      "januari 2027 om 09:00")
    clock.advance(hours=1)
    assert runtime.check() == []


def test_housekeeping_purges_stale_signups_and_resumes_interrupted_sends(
        db: Database, mine: Settings) -> None:
    from digiweetjes.scheduling.housekeeping import housekeeping
    from tests.sending_support import add_subscriber

    add_subscriber(db, mine, "vergeten@example.org", status="pending",
                   now=SENDS_AT - timedelta(days=40))
    clock = FixedClock(SENDS_AT)
    stop = threading.Event()
    runtime = runtime_for(db, mine, clock, send_stop=stop)
    runtime.due.send = _door(db, mine, clock, stop)
    runtime.check()
    assert _state(db) is IssueState.SENDING  # stopped after the first batch
    fresh = runtime_for(db, mine, clock)  # the next start of the scheduler
    chores = housekeeping(db, mine, clock, fresh.due, provider_factory=fresh.provider_factory)
    assert chores.done["opruimen"].startswith("1 onbevestigde inschrijvingen")
    assert chores.done["afstemmen"] == "geen onzekere berichten"
    assert chores.done["hervatten"].startswith("1 onderbroken")
    assert len(mails(mine)) == READERS
    assert _state(db) is IssueState.SENT
