"""Two real ``scheduler.py`` processes on one database: one active, one on standby; the active
one is killed with SIGKILL in the middle of a send, the standby takes over within the lease
and finishes it through the ledger: nobody gets the issue twice, and only the batch in flight at
the kill is left uncertain. Real time, short leases (about 15 s a database)."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.db import Database
from digiweetjes.models import IssueState
from digiweetjes.release import get_release, schedule_issue
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.service import campaign_status
from tests.release_support import SAMPLE_ID, approved, own_issues
from tests.sending_support import add_subscriber

pytestmark = pytest.mark.slow
READERS = 24


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, str(PROJECT_ROOT / "scheduler.py")], env=env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)


def _wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")


def _addresses(outbox: Path) -> Counter[str]:
    return Counter(email.message_from_bytes(path.read_bytes())["To"]
                   for path in (outbox / SAMPLE_ID).glob("*.eml"))


def test_a_killed_scheduler_is_replaced_and_the_send_happens_once(
        db: Database, settings: Settings, tmp_path: Path) -> None:
    mine = own_issues(settings, tmp_path).with_(database_url=db.url,
                                                outbox_dir=tmp_path / "outbox",
                                                send=SendOptions(concurrency=1, batch_size=2))
    for n in range(READERS):
        add_subscriber(db, mine, f"lezer{n:02}@example.org", now=datetime(2026, 1, 1, tzinfo=UTC))
    approved(db, mine, SAMPLE_ID)
    start = datetime.now(UTC)
    schedule_issue(db, mine, FixedClock(start), SAMPLE_ID, start + timedelta(seconds=4))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIWEETJES_")}
    env.update(DIGIWEETJES_DATABASE_URL=db.url, DIGIWEETJES_ROOT=str(tmp_path),
               DIGIWEETJES_ISSUES_DIR=str(mine.issues_dir),
               DIGIWEETJES_TEMPLATES_DIR=str(mine.templates_dir),
               DIGIWEETJES_SECRET_KEY=mine.secret_key.reveal(),
               DIGIWEETJES_BASE_URL=mine.base_url,
               DIGIWEETJES_SCHEDULE_LEASE_SECONDS="3", DIGIWEETJES_SCHEDULE_RENEW_SECONDS="1",
               DIGIWEETJES_SCHEDULE_CHECK_SECONDS="1",
               # Two requests a second, two readers a request: the send takes ~6 s.
               DIGIWEETJES_SEND_BATCH_SIZE="2", DIGIWEETJES_SEND_CONCURRENCY="1",
               DIGIWEETJES_SEND_REQUESTS_PER_SECOND="2")
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start(env, first_log)
    second = None
    try:
        _wait_for(lambda: "actief:" in first_log.read_text(), "the first to become active")
        second = _start(env, second_log)
        _wait_for(lambda: "stand-by:" in second_log.read_text(), "the second to stand by")
        assert "actief:" not in second_log.read_text()
        _wait_for(lambda: sum(_addresses(tmp_path / "outbox").values()) >= 4,
                  "the first to be sending")
        first.kill()  # SIGKILL: no clean-up, the lease simply stops being renewed
        first.wait(timeout=10)
        killed_at = time.monotonic()
        _wait_for(lambda: "actief:" in second_log.read_text(), "the second to take over")
        took_over = time.monotonic() - killed_at
        _wait_for(lambda: (release := get_release(db, SAMPLE_ID)) is not None
                  and release.state is IssueState.SENT, "the send to finish", timeout=60)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    assert took_over < 30
    sent = _addresses(tmp_path / "outbox")
    assert [address for address, times in sent.items() if times > 1] == []
    # The batch in flight at the kill may have left or not: `uncertain`, never sent again
    # automatically (the ledger's rule; a reconcile decides it). Everyone else got it once.
    status = campaign_status(db, SAMPLE_ID)
    assert status is not None
    counts = status.counts
    assert counts["sent"] + counts["uncertain"] == READERS
    assert counts["uncertain"] <= 2  # at most the one batch of two that was in flight
    assert counts["sent"] <= len(sent) <= READERS
    assert "verstuurd:" in second_log.read_text()
    assert second is not None and second.returncode == 0  # SIGTERM: a clean stop
    assert "gestopt" in second_log.read_text()
