"""Hard-bounce and complaint rates of the last sends, from the ledger and the webhook events.

A rate is per campaign: the deliveries the provider accepted (``sent``) are the denominator;
the numerator is the deliveries of that campaign that a provider later reported as a hard
bounce (or a complaint), each delivery counted once however often it was reported. Events
that found no delivery (an address we never sent to, another database's reference) are not
counted: they belong to no send.

The thresholds the dashboard warns at:

- complaints ≥ 0.1 %: Google's email sender guidelines ask bulk senders to keep the spam rate
  in Postmaster Tools below 0.10 % and never to reach 0.30 %
  (https://support.google.com/a/answer/81126); Yahoo's sender best practices set the same
  0.3 % ceiling (https://senders.yahooinc.com/best-practices/). Warning at 0.1 % leaves room
  before the rate that gets mail blocked.
- hard bounces ≥ 2 %: providers act at 5 % (Amazon SES puts an account under review at a 5 %
  bounce rate and may pause it at 10 %:
  https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html); 2 % is the common
  list-hygiene warning level well before that, the point at which a list needs cleaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from digiweetjes.models import Campaign, Delivery, DeliveryState, WebhookEvent, WebhookEventKind

#: Rates at or above these (fractions) are shown with a warning (sources in the docstring).
COMPLAINT_WARNING = 0.001
HARD_BOUNCE_WARNING = 0.02


class _Rates:
    """The rates and warnings of anything with ``sent``, ``hard_bounces`` and ``complaints``."""

    sent: int
    hard_bounces: int
    complaints: int

    @property
    def hard_bounce_rate(self) -> float | None:
        return self.hard_bounces / self.sent if self.sent else None

    @property
    def complaint_rate(self) -> float | None:
        return self.complaints / self.sent if self.sent else None

    @property
    def hard_bounce_warning(self) -> bool:
        rate = self.hard_bounce_rate
        return rate is not None and rate >= HARD_BOUNCE_WARNING

    @property
    def complaint_warning(self) -> bool:
        rate = self.complaint_rate
        return rate is not None and rate >= COMPLAINT_WARNING


@dataclass(frozen=True)
class SendHealth(_Rates):
    """One recent campaign: its deliveries by state and what providers reported back."""

    issue_id: str
    subject: str
    started_at: datetime
    state: str
    counts: dict[str, int]
    hard_bounces: int
    complaints: int

    @property
    def sent(self) -> int:  # type: ignore[override]
        return self.counts.get(DeliveryState.SENT.value, 0)


@dataclass(frozen=True)
class Totals(_Rates):
    """The recent campaigns together: the rates a provider's reputation system sees."""

    sent: int
    hard_bounces: int
    complaints: int


def recent_sends(session: Session, *, limit: int = 5) -> list[SendHealth]:
    """The ``limit`` newest campaigns, newest first, with counts and reported problems."""
    campaigns = session.execute(
        select(Campaign.id, Campaign.issue_id, Campaign.subject, Campaign.created_at,
               Campaign.state)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(limit)).all()
    if not campaigns:
        return []
    ids = [row.id for row in campaigns]
    counts: dict[int, dict[str, int]] = {i: {s.value: 0 for s in DeliveryState} for i in ids}
    for campaign_id, state, count in session.execute(
            select(Delivery.campaign_id, Delivery.state, func.count())
            .where(Delivery.campaign_id.in_(ids))
            .group_by(Delivery.campaign_id, Delivery.state)):
        counts[campaign_id][state] = count
    reported: dict[tuple[int, str], int] = {}
    for campaign_id, kind, count in session.execute(
            select(Delivery.campaign_id, WebhookEvent.kind,
                   func.count(distinct(WebhookEvent.delivery_id)))
            .join(Delivery, Delivery.id == WebhookEvent.delivery_id)
            .where(Delivery.campaign_id.in_(ids),
                   WebhookEvent.kind.in_([WebhookEventKind.HARD_BOUNCE.value,
                                          WebhookEventKind.COMPLAINT.value]))
            .group_by(Delivery.campaign_id, WebhookEvent.kind)):
        reported[(campaign_id, kind)] = count
    return [SendHealth(row.issue_id, row.subject, row.created_at, row.state, counts[row.id],
                       reported.get((row.id, WebhookEventKind.HARD_BOUNCE.value), 0),
                       reported.get((row.id, WebhookEventKind.COMPLAINT.value), 0))
            for row in campaigns]


def totals(sends: list[SendHealth]) -> Totals:
    """The sends of ``recent_sends`` added up."""
    return Totals(sum(s.sent for s in sends), sum(s.hard_bounces for s in sends),
                  sum(s.complaints for s in sends))
