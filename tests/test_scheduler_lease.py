"""The scheduler lease: one holder at a time, renewal, takeover after expiry, clean release."""

from __future__ import annotations

from datetime import timedelta

from digiweetjes.clock import FixedClock
from digiweetjes.db import Database
from digiweetjes.scheduling.lease import Lease, new_holder

LEASE = timedelta(seconds=15)


def test_first_claimer_holds_the_second_waits(db: Database, clock: FixedClock) -> None:
    first = Lease(db, clock, duration=LEASE, holder="a:1:x")
    second = Lease(db, clock, duration=LEASE, holder="b:2:y")
    assert first.claim().held
    waiting = second.claim()
    assert not waiting.held
    assert waiting.holder == "a:1:x"
    assert waiting.expires_at == clock.now() + LEASE
    assert first.holds() and not second.holds()


def test_renewal_keeps_it_expiry_hands_it_over(db: Database, clock: FixedClock) -> None:
    first = Lease(db, clock, duration=LEASE, holder="a:1:x")
    second = Lease(db, clock, duration=LEASE, holder="b:2:y")
    first.claim()
    for _ in range(5):  # renewed every 5 s: the second never gets it
        clock.advance(seconds=5)
        assert first.claim().held
        assert not second.claim().held
    clock.advance(seconds=14)  # the first stopped renewing (killed); not yet expired
    assert not second.claim().held
    clock.advance(seconds=1)
    assert second.claim().held
    assert not first.holds()
    assert not first.claim().held  # the old holder, come back, must stand by


def test_release_lets_the_standby_take_over_at_once(db: Database, clock: FixedClock) -> None:
    first = Lease(db, clock, duration=LEASE, holder="a:1:x")
    second = Lease(db, clock, duration=LEASE, holder="b:2:y")
    first.claim()
    first.release()
    assert second.claim().held
    first.release()  # releasing a lease one no longer holds changes nothing
    assert second.holds()


def test_holder_names_the_host_and_process_and_differs_per_start() -> None:
    import os

    one, two = new_holder(), new_holder()
    assert one != two
    assert one.split(":")[1] == str(os.getpid())
