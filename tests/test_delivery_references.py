"""Delivery references in the ledger: migration, freeze, claim, retry and record by reference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from digiweetjes.db import Database
from digiweetjes.migrations.runner import alembic_config, downgrade, head_revision, upgrade
from digiweetjes.models import Campaign, Delivery
from digiweetjes.providers.base import RecipientResult
from digiweetjes.sending.ledger import Ledger
from digiweetjes.sending.references import REFERENCE_PATTERN, campaign_salt, reference_expression
from tests.sending_support import add_subscriber, freeze, rows, sample_issue


def _reference_revision() -> tuple[str, str]:
    """(revision, the one before it) of the migration adding ``deliveries.reference``, whatever
    number it ends up with."""
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        if script.path.endswith("_delivery_reference.py"):
            return script.revision, script.down_revision
    raise AssertionError("no delivery_reference migration")


def _people(db, settings, now, n: int) -> None:
    for i in range(n):
        add_subscriber(db, settings, f"lid{i}@example.be", now=now)


def test_migration_fills_every_existing_delivery_with_a_unique_reference(
        database_url: str, settings, clock) -> None:
    now = clock.now()
    revision, before = _reference_revision()
    database = Database(database_url)
    try:
        upgrade(database.engine, before)
        _people(database, settings, now, 30)
        with database.session() as session:
            campaign_id = session.execute(insert(Campaign.__table__).values(
                issue_id="2026-11", subject="s", tag="t", provider="brevo", state="done",
                audience_size=30, audience_frozen_at=now, created_at=now, updated_at=now)
                .returning(Campaign.__table__.c.id)).scalar_one()
            # Only the 0002 columns: the model's ``reference`` does not exist yet.
            d = Delivery.__table__
            session.execute(insert(d), [
                {"campaign_id": campaign_id, "subscriber_id": sid, "state": "sent",
                 "attempts": 1, "message_id": "<batch-1>", "created_at": now, "updated_at": now}
                for sid in range(1, 31)])
        upgrade(database.engine, revision)
        found = rows(database, campaign_id)
        references = [row.reference for row in found]
        assert len(references) == 30 and len(set(references)) == 30
        assert all(REFERENCE_PATTERN.fullmatch(r) for r in references), references[:3]
        with pytest.raises(IntegrityError), database.session() as session:
            session.execute(update(d).where(d.c.id == found[1].id)
                            .values(reference=references[0]))
        # Down and up again: the column goes and comes back filled.
        downgrade(database.engine, before)
        upgrade(database.engine, head_revision())
        again = [row.reference for row in rows(database, campaign_id)]
        assert len(set(again)) == 30 and set(again).isdisjoint(references)
    finally:
        database.dispose()


def test_freeze_gives_every_delivery_a_random_reference_unique_across_campaigns(
        db: Database, settings, clock) -> None:
    now = clock.now()
    _people(db, settings, now, 40)
    first = freeze(db, sample_issue(settings, issue_id="2026-a"), "brevo", now)
    second = freeze(db, sample_issue(settings, issue_id="2026-b"), "brevo", now)
    a = [row.reference for row in rows(db, first.id)]
    b = [row.reference for row in rows(db, second.id)]
    assert len(a) == len(b) == 40
    assert all(REFERENCE_PATTERN.fullmatch(r) for r in a + b)
    assert len(set(a) | set(b)) == 80
    # A per-campaign prefix, then an order part ascending with the subscriber, then noise.
    assert {r[:10] for r in a} != {r[:10] for r in b} and len({r[:10] for r in a}) == 1
    assert a == sorted(a)
    # Not the row id in any spelling: a webhook from another database finds nothing here.
    ids = {str(row.id) for row in rows(db, first.id)}
    assert not ids & set(a)
    assert len({r[19:] for r in a}) == 40


def test_reference_is_kept_through_claim_retry_and_record(db: Database, settings,
                                                          clock) -> None:
    now = clock.now()
    _people(db, settings, now, 5)
    campaign = freeze(db, sample_issue(settings), "sendgrid", now)
    before = {row.id: row.reference for row in rows(db, campaign.id)}
    work = Ledger(db, campaign.id, "w1")
    batch = work.claim(5, now)
    assert {r.delivery_id: r.reference for r in batch.rows} == before
    work.requeue(batch, now, now + timedelta(seconds=1), "HTTP 503")
    retry = work.claim(5, now + timedelta(seconds=2))
    assert [r.reference for r in retry.rows] == [r.reference for r in batch.rows]
    # SendGrid-like: one message id for the whole batch; the reference tells the rows apart.
    results = [RecipientResult(r.reference, "sent", "batch-id-1") for r in retry.rows[:4]]
    results.append(RecipientResult(retry.rows[4].reference, "failed", reason="bounced"))
    assert work.record(results, now) == (4, 1)
    after = {row.reference: row for row in rows(db, campaign.id)}
    assert {row.id: ref for ref, row in after.items()} == before
    assert [after[r.reference].state for r in retry.rows] == ["sent"] * 4 + ["failed"]
    assert {after[r.reference].message_id for r in retry.rows[:4]} == {"batch-id-1"}
    with db.session() as session:
        found = session.scalar(select(Delivery.id).where(
            Delivery.reference == retry.rows[2].reference))
    assert found == retry.rows[2].delivery_id


def test_a_result_with_an_unknown_reference_is_not_counted(db: Database, settings,
                                                           clock) -> None:
    now = clock.now()
    _people(db, settings, now, 2)
    campaign = freeze(db, sample_issue(settings), "brevo", now)
    work = Ledger(db, campaign.id, "w1")
    batch = work.claim(5, now)
    # A Brevo duplicate-key replay: no message id, still recorded (and findable) by reference.
    results = [RecipientResult(batch.rows[0].reference, "sent", None),
               RecipientResult("17", "sent", "<m@x>")]
    assert work.record(results, now) == (1, 0)
    states = {row.reference: (row.state, row.message_id) for row in rows(db, campaign.id)}
    assert states[batch.rows[0].reference] == ("sent", None)
    assert states[batch.rows[1].reference] == ("sending", None)


def test_reference_expression_refuses_an_unsafe_prefix() -> None:
    prefix, offset = campaign_salt()
    assert len(prefix) == 10 and 0 <= offset < 2**32
    with pytest.raises(ValueError, match="prefix"):
        reference_expression("sqlite", Delivery.__table__.c.id, "x' OR 1=1", 0)
