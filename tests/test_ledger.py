"""The delivery ledger on SQLite and PostgreSQL: freeze, claim, record, retry, recover."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digiweetjes.content.drafts import Audience
from digiweetjes.db import Database
from digiweetjes.models import Delivery
from digiweetjes.providers.base import RecipientResult
from digiweetjes.sending import campaigns
from digiweetjes.sending.ledger import Ledger
from digiweetjes.sending.workers import new_worker_id, worker_is_dead
from tests.sending_support import (
    add_subscriber,
    freeze,
    rows,
    sample_issue,
    set_status,
    states,
    suppress,
)


def _dead_worker_id() -> str:
    """A worker id of this host whose process has certainly exited."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return f"{socket.gethostname()[:60]}:{int(child.stdout)}:deadbeef0000"


def _stopped(alive: Ledger):
    """The liveness check a sending engine hands the ledger (same host: is the pid gone?)."""
    return lambda worker: worker_is_dead(worker, alive.worker_id)


def _people(db, settings, now, n=5):
    return [add_subscriber(db, settings, f"lid{i}@example.be", now=now) for i in range(n)]


def test_freeze_takes_active_unsuppressed_matching_subscribers_once(db, settings, clock) -> None:
    now = clock.now()
    add_subscriber(db, settings, "brugge@example.be", now=now, municipality="Brugge",
                   subregion="centrum", topics=("digibanken",))
    add_subscriber(db, settings, "knokke@example.be", now=now, municipality="Knokke-Heist",
                   subregion="noord")
    add_subscriber(db, settings, "west@example.be", now=now, municipality="Oostkamp",
                   subregion="west", topics=("andere",))
    add_subscriber(db, settings, "pending@example.be", now=now, status="pending")
    add_subscriber(db, settings, "gone@example.be", now=now, status="unsubscribed")
    add_subscriber(db, settings, "suppressed@example.be", now=now)
    suppress(db, settings, "suppressed@example.be", now)

    everyone = campaigns.count_audience(db, Audience())
    assert everyone == 3
    assert campaigns.count_audience(db, Audience(municipalities=("Brugge",))) == 1
    assert campaigns.count_audience(db, Audience(subregions=("noord", "west"))) == 2
    assert campaigns.count_audience(db, Audience(municipalities=("Brugge",),
                                              subregions=("noord",))) == 2
    # No topics chosen means every topic; "andere" excludes the West subscriber.
    assert campaigns.count_audience(db, Audience(topics=("digibanken",))) == 2

    compiled = sample_issue(settings)
    campaign, created = campaigns.freeze_audience(
        db, issue_id=compiled.issue_id, subject=compiled.subject, tag=compiled.tag,
        provider="scripted", audience=Audience(), now=now)
    assert created and campaign.audience_size == 3 and campaign.state == "sending"
    # A subscriber who joins later is not half-included: the second call changes nothing.
    add_subscriber(db, settings, "late@example.be", now=now)
    again, created = campaigns.freeze_audience(
        db, issue_id=compiled.issue_id, subject=compiled.subject, tag=compiled.tag,
        provider="scripted", audience=Audience(), now=now)
    assert not created and again.id == campaign.id
    assert campaigns.counts(db, campaign.id)["queued"] == 3


def test_claims_are_disjoint_committed_and_in_id_order(db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 7)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    first = Ledger(db, campaign.id, "w1").claim(3, now)
    second = Ledger(db, campaign.id, "w2").claim(3, now)
    third = Ledger(db, campaign.id, "w3").claim(3, now)
    assert first and second and third
    ids = [r.delivery_id for b in (first, second, third) for r in b.rows]
    assert ids == sorted(ids) and len(set(ids)) == 7
    assert len({first.key, second.key, third.key}) == 3
    assert Ledger(db, campaign.id, "w4").claim(3, now) is None
    # The claim is already in the database (committed) with its key and first-use time.
    by_id = {d.id: d for d in rows(db, campaign.id)}
    for r in first.rows:
        row = by_id[r.delivery_id]
        assert (row.state, row.worker_id, row.idempotency_key) == ("sending", "w1", first.key)
        assert row.key_first_used_at == now


def test_record_keeps_message_ids_and_reasons(db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 3)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    work = Ledger(db, campaign.id, "w1")
    batch = work.claim(10, now)
    a, b, c = (r.reference for r in batch.rows)
    assert work.record([RecipientResult(a, "sent", "<m1>"), RecipientResult(b, "sent", "<m2>"),
                        RecipientResult(c, "failed", reason="406: inactive recipient")],
                       now) == (2, 1)
    found = {d.reference: d for d in rows(db, campaign.id)}
    assert (found[a].state, found[a].message_id, found[a].sent_at) == ("sent", "<m1>", now)
    assert found[b].message_id == "<m2>"
    assert (found[c].state, found[c].reason) == ("failed", "406: inactive recipient")
    assert campaigns.finish_if_done(db, campaign.id, now)
    assert campaigns.get_campaign(db, campaign.issue_id).state == "done"


def test_suppressed_or_unsubscribed_since_the_freeze_is_skipped(db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 4)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    suppress(db, settings, "lid1@example.be", now)
    set_status(db, "lid2@example.be", "unsubscribed")
    batch = Ledger(db, campaign.id, "w1").claim(10, now)
    assert [r.email for r in batch.rows] == ["lid0@example.be", "lid3@example.be"]
    assert batch.suppressed == 2
    assert campaigns.counts(db, campaign.id)["suppressed"] == 2


def test_a_transient_retry_is_the_same_batch_with_the_same_key_once_due(db, settings,
                                                                        clock) -> None:
    now = clock.now()
    _people(db, settings, now, 5)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    work = Ledger(db, campaign.id, "w1")
    batch = work.claim(3, now)
    work.requeue(batch, now, now + timedelta(seconds=30), "HTTP 503")
    # Not due yet: fresh rows come first, never the retry's rows.
    other = work.claim(3, now)
    assert {r.delivery_id for r in other.rows}.isdisjoint({r.delivery_id for r in batch.rows})
    assert work.claim(3, now) is None
    queued, sending, earliest = work.pending()
    assert (queued, sending, earliest) == (3, 2, now + timedelta(seconds=30))
    retry = work.claim(3, now + timedelta(seconds=31))
    assert retry.retry and retry.key == batch.key and retry.attempts == 1
    assert [r.delivery_id for r in retry.rows] == [r.delivery_id for r in batch.rows]
    assert retry.key_first_used_at == now


def test_a_worker_that_died_holding_a_batch_leaves_it_uncertain(db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 4)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    dead = Ledger(db, campaign.id, _dead_worker_id())
    held = dead.claim(2, now)
    alive = Ledger(db, campaign.id, new_worker_id())
    requeued, uncertain = alive.recover(now, lease=timedelta(minutes=10), key_window=None,
                                        stopped=_stopped(alive))
    assert (requeued, uncertain) == (0, 2)
    found = {d.id: d for d in rows(db, campaign.id)}
    for r in held.rows:
        assert found[r.delivery_id].state == "uncertain"
        assert "may have accepted" in found[r.delivery_id].reason
    # Never claimed again automatically.
    rest = alive.claim(10, now)
    assert {r.delivery_id for r in rest.rows}.isdisjoint({r.delivery_id for r in held.rows})


def test_a_keyed_batch_of_a_dead_worker_is_resent_under_its_key_within_the_window(
        db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 4)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    held = Ledger(db, campaign.id, _dead_worker_id()).claim(2, now)
    alive = Ledger(db, campaign.id, new_worker_id())
    later = now + timedelta(minutes=5)
    assert alive.recover(later, lease=timedelta(minutes=10),
                         key_window=timedelta(minutes=25), stopped=_stopped(alive)) == (2, 0)
    retry = alive.claim(10, later)
    assert retry.retry and retry.key == held.key
    assert [r.delivery_id for r in retry.rows] == [r.delivery_id for r in held.rows]


def test_a_keyed_batch_past_its_window_becomes_uncertain(db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 2)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    Ledger(db, campaign.id, _dead_worker_id()).claim(2, now)
    alive = Ledger(db, campaign.id, new_worker_id())
    assert alive.recover(now + timedelta(minutes=26), lease=timedelta(hours=1),
                         key_window=timedelta(minutes=25), stopped=_stopped(alive)) == (0, 2)


def test_a_live_worker_elsewhere_keeps_its_batch_until_its_lease_runs_out(db, settings,
                                                                          clock) -> None:
    now = clock.now()
    _people(db, settings, now, 2)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    Ledger(db, campaign.id, "other-host:123:abc").claim(2, now)
    alive = Ledger(db, campaign.id, new_worker_id())
    assert alive.recover(now + timedelta(minutes=9), lease=timedelta(minutes=10),
                         key_window=None, stopped=_stopped(alive)) == (0, 0)
    assert alive.recover(now + timedelta(minutes=11), lease=timedelta(minutes=10),
                         key_window=None, stopped=_stopped(alive)) == (0, 2)


def test_worker_liveness() -> None:
    me = new_worker_id()
    host = me.split(":")[0]
    assert not worker_is_dead(me, me)
    assert not worker_is_dead(f"{host}:{os.getppid()}:x", me)
    assert worker_is_dead(_dead_worker_id(), me)
    assert worker_is_dead(f"{host}:{os.getpid()}:othernonce", me)
    assert not worker_is_dead("elsewhere:1:x", me)
    # A killed worker whose parent died too stays a zombie: it still answers kill(pid, 0).
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{zombie.pid}/stat")
    while stat.read_text().rpartition(")")[2].split()[0] != "Z":
        time.sleep(0.01)
    assert worker_is_dead(f"{host}:{zombie.pid}:x", me)
    zombie.wait()


def test_reopen_failed_and_uncertain_with_fresh_keys(db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 4)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    work = Ledger(db, campaign.id, "w1")
    a = work.claim(2, now)
    work.fail(a, now, "HTTP 422: invalid")
    b = work.claim(2, now)
    work.uncertain(b, now, "timeout")
    assert campaigns.finish_if_done(db, campaign.id, now)
    assert campaigns.reopen(db, campaign.id, ["failed"], now) == 2
    assert campaigns.get_campaign(db, campaign.issue_id).state == "sending"
    again = work.claim(10, now)
    assert not again.retry and again.key not in (a.key, b.key)
    assert {r.delivery_id for r in again.rows} == {r.delivery_id for r in a.rows}
    assert campaigns.reopen(db, campaign.id, ["uncertain"], now) == 2


def test_status_problems_and_reasons(db, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 3)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    work = Ledger(db, campaign.id, "w1")
    work.fail(work.claim(2, now), now, "HTTP 422: invalid")
    assert campaigns.reasons(db, campaign.id, "failed") == [("HTTP 422: invalid", 2)]
    found = campaigns.problems(db, campaign.id)
    assert [(s, e) for s, e, _i, _r in found] == [("failed", "lid0@example.be"),
                                                  ("failed", "lid1@example.be")]


def test_concurrent_workers_never_claim_a_row_twice(db: Database, settings, clock) -> None:
    """Four workers (own connections) claim from one ledger at once: every row exactly once.

    On PostgreSQL this exercises FOR UPDATE SKIP LOCKED; on SQLite the write lock.
    """
    now = clock.now()
    from digiweetjes.devtools.synthetic import insert_subscribers

    insert_subscribers(db, settings, 600, now)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        own = Database(db.url)
        try:
            work = Ledger(own, campaign.id, name)
            mine = claimed.setdefault(name, [])
            start.wait()
            while (batch := work.claim(7, now)) is not None:
                mine.extend(r.delivery_id for r in batch.rows)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == len(set(every)) == 600
    assert sum(1 for ids in claimed.values() if ids) >= 2, "the workers did not overlap"
    with db.session() as session:
        owners = dict(session.execute(select(Delivery.worker_id, func.count())
                                      .group_by(Delivery.worker_id)).all())
    assert owners == {name: len(ids) for name, ids in claimed.items() if ids}
    assert set(states(db, campaign.id).values()) == {"sending"}


@pytest.mark.parametrize("count", [0, 1])
def test_freezing_an_empty_or_tiny_audience(db, settings, clock, count) -> None:
    now = clock.now()
    _people(db, settings, now, count)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    assert campaign.audience_size == count
    assert campaigns.finish_if_done(db, campaign.id, now) is (count == 0)


def _claim_once_at_the_barrier(url: str, campaign_id: int, now, barrier, threads: int,
                               results) -> None:
    """One sending process: ``threads`` workers, each claiming once when all 8 are ready."""
    def worker(index: int) -> None:
        own = Database(url)
        try:
            work = Ledger(own, campaign_id, new_worker_id() + f"-t{index}")
            barrier.wait(timeout=30)
            batch = work.claim(50, now)
            results.put(("claimed", batch.key, len(batch.rows), batch.retry) if batch
                        else ("nothing",))
        except BaseException as exc:
            results.put(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            own.dispose()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def test_a_due_keyed_batch_is_claimed_whole_by_exactly_one_of_eight_workers(
        db: Database, settings, clock) -> None:
    """Eight workers in two processes reach for one due retry batch of 1,000 rows at once.

    PostgreSQL once let two of them lock one row each and then wait for each other's
    ("deadlock detected", forever): the claim of a keyed batch is all-or-nothing.
    """
    import multiprocessing

    from digiweetjes.devtools.synthetic import insert_subscribers

    now = clock.now()
    insert_subscribers(db, settings, 1000, now)
    campaign = freeze(db, sample_issue(settings), "scripted", now)
    first = Ledger(db, campaign.id, "w0")
    batch = first.claim(1000, now)
    assert len(batch.rows) == 1000
    first.requeue(batch, now, now, "HTTP 503")
    db.dispose()  # the children fork: no connection of ours crosses into them

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(8)
    results = context.Queue()
    processes = [context.Process(target=_claim_once_at_the_barrier,
                                 args=(db.url, campaign.id, now, barrier, 4, results))
                 for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in range(8)]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    assert [o for o in outcomes if o[0] == "error"] == []
    claimed = [o for o in outcomes if o[0] == "claimed"]
    assert claimed == [("claimed", batch.key, 1000, True)]
    assert set(states(db, campaign.id).values()) == {"sending"}
