"""A campaign (one issue sent to the list) and its deliveries, seen as a whole.

Freezing the audience creates the campaign and one queued delivery per matching subscriber in
one transaction; the rest reads the campaign's state or moves it (pause, resume, done, reopen
for an explicit resend). What happens to single deliveries is ``ledger``'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from digiweetjes.db import Database
from digiweetjes.models import (
    Campaign,
    CampaignState,
    Delivery,
    DeliveryState,
    Subscriber,
    SubscriberStatus,
    Suppression,
    UTCDateTime,
)
from digiweetjes.sending.references import campaign_salt, reference_expression

D = Delivery.__table__
S = Subscriber.__table__
SUP = Suppression.__table__
C = Campaign.__table__

QUEUED, SENDING, SENT = DeliveryState.QUEUED.value, DeliveryState.SENDING.value, "sent"
FAILED, UNCERTAIN, SUPPRESSED = "failed", "uncertain", "suppressed"
OPEN_STATES = (QUEUED, SENDING)
# Inline literals, not bound parameters: only then can SQLite (and PostgreSQL's generic plans)
# prove that a query may use the partial indexes on these states.
IS_QUEUED = D.c.state == literal_column("'queued'")
IS_SENDING = D.c.state == literal_column("'sending'")


class AudienceSpec(Protocol):
    """Whom an issue goes to (an issue's front matter ``audience``): empty means everyone."""

    @property
    def municipalities(self) -> Sequence[str]: ...

    @property
    def subregions(self) -> Sequence[str]: ...

    @property
    def topics(self) -> Sequence[str]: ...


# -- the audience -----------------------------------------------------------------------------


def audience_filter(audience: AudienceSpec) -> ColumnElement[bool]:
    """SQL: an active, unsuppressed subscriber whom the issue's audience includes."""
    conditions: list[ColumnElement[bool]] = [
        Subscriber.status == SubscriberStatus.ACTIVE.value,
        Subscriber.email.is_not(None),
        ~exists().where(Suppression.email_hash == Subscriber.email_hash),
    ]
    places: list[ColumnElement[bool]] = []
    if audience.municipalities:
        places.append(Subscriber.municipality.in_(audience.municipalities))
    if audience.subregions:
        places.append(Subscriber.subregion.in_(audience.subregions))
    if places:
        conditions.append(or_(*places))
    if audience.topics:
        conditions.append(or_(*(Subscriber.has_topic(t) for t in audience.topics)))
    return and_(*conditions)


def count_audience(db: Database, audience: AudienceSpec) -> int:
    """How many subscribers the audience matches right now (nothing written)."""
    with db.session() as session:
        return session.scalar(select(func.count(Subscriber.id)).where(audience_filter(audience))
                              ) or 0


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    issue_id: str
    provider: str
    state: str
    audience_size: int
    audience_frozen_at: datetime
    pause_reason: str | None


def _info(row: Any) -> CampaignInfo:
    return CampaignInfo(row.id, row.issue_id, row.provider, row.state, row.audience_size,
                        row.audience_frozen_at, row.pause_reason)


def get_campaign(db: Database, issue_id: str) -> CampaignInfo | None:
    """The campaign of an issue, or None if it was never sent to the list."""
    with db.session() as session:
        row = session.execute(select(Campaign).where(Campaign.issue_id == issue_id)).scalar()
        return _info(row) if row else None


def subject_of(db: Database, campaign_id: int) -> str:
    """The subject a campaign was sent with."""
    with db.session() as session:
        return str(session.scalar(select(C.c.subject).where(C.c.id == campaign_id)) or "")


class CampaignCopy(Protocol):
    """What a campaign sends, stored with it (``release.sent_copy.SentCopy``)."""

    @property
    def html(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def web_html(self) -> str | None: ...


def freeze_audience(db: Database, *, issue_id: str, subject: str, tag: str, provider: str,
                    audience: AudienceSpec, now: datetime,
                    copy: CampaignCopy | None = None) -> tuple[CampaignInfo, bool]:
    """The issue's campaign, created with its audience frozen if it did not exist yet.

    One transaction: the campaign row, then one ``INSERT … SELECT`` of a queued delivery per
    matching subscriber, each with its reference (``sending.references``). Returns
    ``(campaign, created)``; an existing campaign is left as it is (a subscriber who joined
    since is not half-included). ``copy``, what the campaign sends, is stored with it.
    """
    stored = ({"html": copy.html, "text": copy.text, "web_html": copy.web_html} if copy
              else {})
    try:
        with db.session() as session:
            # The INSERT comes first so a SQLite transaction takes the write lock at once.
            campaign_id = session.execute(
                insert(C).values(issue_id=issue_id, subject=subject[:300], tag=tag[:100],
                                 provider=provider, state=CampaignState.SENDING.value,
                                 audience_size=0, audience_frozen_at=now, created_at=now,
                                 updated_at=now, **stored).returning(C.c.id)).scalar_one()
            stamp = literal(now, UTCDateTime())
            reference = reference_expression(db.backend, Subscriber.id, *campaign_salt())
            rows = select(literal(campaign_id), Subscriber.id, literal(QUEUED), literal(0),
                          stamp, stamp, reference
                          ).where(audience_filter(audience)).order_by(Subscriber.id)
            session.execute(insert(D).from_select(
                ["campaign_id", "subscriber_id", "state", "attempts", "created_at",
                 "updated_at", "reference"], rows))
            # Counted, not rowcount: some drivers report -1 for INSERT … SELECT.
            size = session.scalar(select(func.count()).select_from(D).where(
                D.c.campaign_id == campaign_id)) or 0
            session.execute(update(C).where(C.c.id == campaign_id).values(audience_size=size))
    except IntegrityError:
        pass  # another process froze it first: use theirs
    else:
        campaign = get_campaign(db, issue_id)
        assert campaign is not None
        return campaign, True
    campaign = get_campaign(db, issue_id)
    if campaign is None:
        raise RuntimeError(f"campaign {issue_id} vanished while being created")
    return campaign, False


# -- campaign-level operations ----------------------------------------------------------------


def counts(db: Database, campaign_id: int) -> dict[str, int]:
    """Deliveries by state (every state present, zero where none)."""
    with db.session() as session:
        found = dict(session.execute(
            select(D.c.state, func.count()).where(D.c.campaign_id == campaign_id)
            .group_by(D.c.state)).all())
    return {state.value: found.get(state.value, 0) for state in DeliveryState}


def problems(db: Database, campaign_id: int, states: Sequence[str] = (FAILED, UNCERTAIN),
             limit: int = 50, offset: int = 0) -> list[tuple[str, str | None, str, str | None]]:
    """(state, address, delivery id, reason) of failed / uncertain deliveries, oldest first;
    ``offset`` pages on (the web pages)."""
    with db.session() as session:
        rows = session.execute(
            select(D.c.state, S.c.email, D.c.id, D.c.reason)
            .join(S, S.c.id == D.c.subscriber_id)
            .where(D.c.campaign_id == campaign_id, D.c.state.in_(states))
            .order_by(D.c.id).limit(limit).offset(offset)).all()
    return [(r.state, r.email, str(r.id), r.reason) for r in rows]


def reasons(db: Database, campaign_id: int, state: str) -> list[tuple[str | None, int]]:
    """Distinct reasons of one state with their counts, most frequent first."""
    with db.session() as session:
        return [(r, n) for r, n in session.execute(
            select(D.c.reason, func.count()).where(D.c.campaign_id == campaign_id,
                                                   D.c.state == state)
            .group_by(D.c.reason).order_by(func.count().desc()).limit(20)).all()]


def reopen(db: Database, campaign_id: int, states: Sequence[str], now: datetime) -> int:
    """Put failed (``--retry-failed``) or uncertain (``--include-uncertain``) rows back in the
    queue with a fresh key: an explicit decision to send them again."""
    if not states:
        return 0
    with db.session() as session:
        count = session.execute(
            update(D).where(D.c.campaign_id == campaign_id, D.c.state.in_(states))
            .values(state=QUEUED, idempotency_key=None, key_first_used_at=None,
                    next_attempt_at=None, attempts=0, worker_id=None, updated_at=now)).rowcount
        if count:
            session.execute(update(C).where(C.c.id == campaign_id).values(
                state=CampaignState.SENDING.value, finished_at=None, updated_at=now))
    return count


def requeue_batches(db: Database, campaign_id: int, keys: Sequence[str], now: datetime) -> int:
    """Failed rows of the batches ``keys`` back to the queue with a fresh key: their whole
    request was refused for what every batch shares (content, sender, account), not for them."""
    count = 0
    with db.session() as session:
        for start in range(0, len(keys), 500):
            count += session.execute(
                update(D).where(D.c.campaign_id == campaign_id, D.c.state == FAILED,
                                D.c.idempotency_key.in_(keys[start:start + 500]))
                .values(state=QUEUED, idempotency_key=None, key_first_used_at=None,
                        next_attempt_at=None, attempts=0, worker_id=None,
                        updated_at=now)).rowcount
    return count


def set_state(db: Database, campaign_id: int, state: CampaignState, now: datetime,
              reason: str | None = None) -> None:
    """Pause, resume or finish a campaign (the pause reason is kept for ``status``)."""
    values: dict[str, Any] = {"state": state.value, "updated_at": now, "pause_reason": reason}
    if state is CampaignState.DONE:
        values["finished_at"] = now
    with db.session() as session:
        session.execute(update(C).where(C.c.id == campaign_id).values(**values))


def open_counts(db: Database, campaign_id: int) -> tuple[int, int]:
    """(queued, sending): two partial-index counts, cheap enough to poll for progress."""
    with db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(D).where(  # type: ignore
            D.c.campaign_id == campaign_id, state)) or 0 for state in (IS_QUEUED, IS_SENDING))


def finish_if_done(db: Database, campaign_id: int, now: datetime) -> bool:
    """Mark the campaign done when no delivery is queued or sending; True if it is done."""
    with db.session() as session:
        for state in (IS_QUEUED, IS_SENDING):
            if session.scalar(select(D.c.id).where(D.c.campaign_id == campaign_id, state)
                              .limit(1)) is not None:
                return False
        session.execute(update(C).where(C.c.id == campaign_id, C.c.state != "done").values(
            state=CampaignState.DONE.value, finished_at=now, updated_at=now, pause_reason=None))
    return True
