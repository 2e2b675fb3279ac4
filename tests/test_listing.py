"""The list's reading functions the admin pages page through: counts, search, deliveries."""

from __future__ import annotations

from sqlalchemy import update

from digiweetjes.models import Delivery, Subscriber
from digiweetjes.subscribers import count_subscribers, deliveries_of, list_subscribers
from tests.sending_support import add_subscriber, freeze, sample_issue


def test_count_matches_the_listing_with_the_same_filters(db, db_settings, clock) -> None:
    now = clock.now()
    for i in range(7):
        add_subscriber(db, db_settings, f"lid{i}@example.be", now=now,
                       status="active" if i % 2 else "pending",
                       municipality="Brugge" if i < 3 else "Damme", subregion=None)
    with db.session() as session:
        assert count_subscribers(session) == 7
        assert count_subscribers(session, status="active") == 3
        assert count_subscribers(session, municipality="Brugge") == 3
        assert count_subscribers(session, search="LID1") == 1
        page = list_subscribers(session, limit=3, offset=3)
        assert [s.email for s in page] == ["lid3@example.be", "lid4@example.be",
                                           "lid5@example.be"]


def test_search_wildcards_are_literal(db, db_settings, clock) -> None:
    now = clock.now()
    add_subscriber(db, db_settings, "a_b@example.be", now=now, name="Jan 100%")
    add_subscriber(db, db_settings, "axb@example.be", now=now, name="Jan 1000")
    with db.session() as session:
        assert [s.email for s in list_subscribers(session, search="a_b")] == ["a_b@example.be"]
        assert count_subscribers(session, search="100%") == 1
        assert count_subscribers(session, search="%") == 1
        assert count_subscribers(session, search="  ") == 2


def test_deliveries_of_a_subscriber_name_the_issue_and_state(db, db_settings, clock) -> None:
    now = clock.now()
    first = add_subscriber(db, db_settings, "een@example.be", now=now)
    add_subscriber(db, db_settings, "twee@example.be", now=now)
    campaign = freeze(db, sample_issue(db_settings), "outbox", now)
    with db.session() as session:
        session.execute(update(Delivery).where(Delivery.subscriber_id == first)
                        .values(state="failed", reason="mailbox full", attempts=3))
    with db.session() as session:
        subscriber = session.get(Subscriber, first)
        [line] = deliveries_of(session, subscriber)
        assert line.issue_id == campaign.issue_id
        assert (line.state, line.reason, line.attempts) == ("failed", "mailbox full", 3)
        assert line.subject
