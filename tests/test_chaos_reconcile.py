"""Issue 10's reconcile target: a Postmark send killed 20 times, then the same command, ends
with no ``uncertain`` delivery, no duplicate and every recipient reached exactly once.

Postmark has no idempotency key, so every batch in flight at a SIGKILL (of the whole process
group) or at an accepted-then-dropped request is uncertain. Each run looks those up by their
reference first (``sending.reconcile``; the settle time is 0 here, the fake's search has no
lag) and again after its own work, so the finishing run sends only what was not accepted. The
fake provider answers with the fault mix of ``test_chaos`` throughout, searches included.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret, Settings
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderControl, fake_provider_subprocess
from digiweetjes.devtools.synthetic import insert_subscribers
from digiweetjes.models import Delivery, Subscriber
from tests.figures import report_figure
from tests.release_support import approve_with_cli
from tests.test_chaos import FAULTS, FINISH_BOUND, SECRET_KEY, _env, _start

N = 5000
#: The kills fall in the first three fifths: each kill lands a little past its threshold (the
#: batches in flight), and the last one must still leave work for the finishing run.
KILL_SPAN = N * 3 // 5
KILLS = 20


@pytest.mark.slow
@pytest.mark.timeout(600)  # about 2.5 minutes on two busy cores
def test_twenty_kills_of_a_postmark_send_then_nothing_uncertain_and_nobody_twice(
        tmp_path: Path, database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key=Secret(SECRET_KEY))
    db = Database(database_url)
    db.upgrade()
    insert_subscribers(db, settings, N, SystemClock().now())
    db.dispose()
    draw = random.Random(f"reconcile-{database_url[:10]}")
    record = tmp_path / "record.jsonl"
    with fake_provider_subprocess(latency_ms=30, record=record) as fake, \
            FakeProviderControl(fake.url) as control:
        control.set_faults(seed=11, **FAULTS)
        env = _env(tmp_path, "postmark", fake.url, database_url)
        env["DIGIWEETJES_SEND_RECONCILE_SETTLE_SECONDS"] = "0"
        approve_with_cli(env, tmp_path)
        thresholds = sorted(draw.sample(range(N // 25, KILL_SPAN), KILLS))
        at_kill: list[tuple[int, int]] = []
        for run, threshold in enumerate(thresholds):
            process = _start(env, tmp_path, run)
            wanted = max(threshold, control.deliveries()["total"] + 1)
            deadline = time.monotonic() + 90
            while control.deliveries()["total"] < wanted:
                assert process.poll() is None, (
                    f"run {run} ended before its kill at {wanted} (kills at {at_kill}):\n"
                    + (tmp_path / f"run{run}.log").read_text())
                assert time.monotonic() < deadline, "the send delivered nothing"
                time.sleep(0.02)
            os.killpg(process.pid, signal.SIGKILL)
            assert process.wait(timeout=10) == -signal.SIGKILL
            at_kill.append((wanted, control.deliveries()["total"]))
            # Requests of the killed run still at the fake land now, not in the next run's
            # count (which would let it be killed before it did anything).
            time.sleep(0.3)
        db = Database(database_url)
        with db.session() as session:
            left = Counter(session.scalars(select(Delivery.state)).all())
        db.dispose()
        started = time.monotonic()
        final = _start(env, tmp_path, KILLS)
        try:
            code = final.wait(timeout=FINISH_BOUND)
        except subprocess.TimeoutExpired:
            os.killpg(final.pid, signal.SIGKILL)
            final.wait()
            pytest.fail(f"the finishing run did not end within {FINISH_BOUND} s:\n"
                        + (tmp_path / f"run{KILLS}.log").read_text()[-3000:])
        finishing = time.monotonic() - started
        summary = control.deliveries()
    log = (tmp_path / f"run{KILLS}.log").read_text()
    reconciled = re.search(r"Afgestemd met postmark: (\d+) .*?, (\d+) .*?, (\d+) nog", log)
    backend = database_url.split(":", 1)[0].split("+")[0]
    report_figure(
        f"reconcile postmark on {backend}: after {KILLS} kills {left['uncertain']} uncertain + "
        f"{left['sending']} in flight of {N}; finishing run reconciled "
        f"{reconciled.groups() if reconciled else '(none)'} (sent, requeued, still uncertain) "
        f"and took {finishing:.1f} s")

    received = Counter(json.loads(line)["email"] for line in record.read_text().splitlines())
    db = Database(database_url)
    with db.session() as session:
        states = dict(session.execute(
            select(Subscriber.email, Delivery.state)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)).all())
        without_id = session.scalar(select(Delivery.id).where(Delivery.message_id.is_(None)))
    db.dispose()
    assert code == 0, log[-3000:]
    assert len(states) == N and Counter(states.values()) == Counter({"sent": N})
    assert summary["duplicate_count"] == 0 and max(received.values()) == 1
    assert set(received) == set(states) and len(received) == N
    assert without_id is None  # every delivery found at the provider kept its message id
    # The kills did leave work to reconcile (else this test proves nothing).
    assert left["uncertain"] + left["sending"] > 0
