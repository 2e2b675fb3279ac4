"""Reconciliation on SQLite and PostgreSQL: uncertain deliveries looked up at the provider by
their reference and moved to sent, back to the queue, or kept uncertain with a reason."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, update

from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret
from digiweetjes.devtools.fake_provider import FakeProviderServer
from digiweetjes.models import CampaignState, Delivery, Subscriber
from digiweetjes.providers.postmark import PostmarkProvider
from digiweetjes.sending import campaigns
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.reconcile import reconcile
from tests.providers_support import KEY
from tests.sending_support import add_subscriber, freeze, sample_issue

SETTLE = timedelta(minutes=2)


def _make_uncertain(db, campaign_id: int, emails: dict[str, object]) -> dict[str, str]:
    """Put the deliveries of ``emails`` (address → when they became uncertain) in
    ``uncertain``; returns address → reference."""
    with db.session() as session:
        refs = dict(session.execute(
            select(Subscriber.email, Delivery.reference)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.campaign_id == campaign_id)).all())
        for email, when in emails.items():
            session.execute(update(Delivery).where(Delivery.reference == refs[email]).values(
                state="uncertain", updated_at=when, idempotency_key="k" * 32,
                reason="worker w stopped while sending"))
    return refs


def _by_email(db, campaign_id: int) -> dict[str, tuple[str, str | None, str | None, object]]:
    with db.session() as session:
        return {email: (state, mid, reason, key) for email, state, mid, reason, key in
                session.execute(
                    select(Subscriber.email, Delivery.state, Delivery.message_id,
                           Delivery.reason, Delivery.idempotency_key)
                    .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                    .where(Delivery.campaign_id == campaign_id))}


def _postmark(accepted: dict[str, str], failing: set[str], seen: list[str]) -> PostmarkProvider:
    """Postmark whose search finds ``accepted`` (reference → message id) and keeps failing
    with 503 for the references in ``failing``."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        ref = query["metadata_ref"]
        seen.append(ref)
        if ref in failing:
            return httpx.Response(503, text="busy")
        messages = [{"MessageID": accepted[ref], "Metadata": {"ref": ref}}] \
            if ref in accepted else []
        return httpx.Response(200, json={"TotalCount": len(messages), "Messages": messages})

    return PostmarkProvider(Secret(KEY), transport=httpx.MockTransport(handler))


def test_each_uncertain_delivery_gets_its_answer(db, settings, clock) -> None:
    now = clock.now()
    for name in ("found", "gone", "fresh", "broken", "fine"):
        add_subscriber(db, settings, f"{name}@example.be", now=now)
    campaign = freeze(db, sample_issue(settings), "postmark", now)
    old, recent = now - timedelta(minutes=10), now - timedelta(seconds=30)
    refs = _make_uncertain(db, campaign.id, {"found@example.be": old, "gone@example.be": old,
                                             "fresh@example.be": recent,
                                             "broken@example.be": old})
    seen: list[str] = []
    provider = _postmark({refs["found@example.be"]: "pm-found"},
                         {refs["broken@example.be"]}, seen)
    sleeps: list[float] = []
    report = reconcile(db, provider, campaign, clock, settle=SETTLE, sleep=sleeps.append, page=2)

    rows = _by_email(db, campaign.id)
    assert rows["found@example.be"][:3] == ("sent", "pm-found", None)
    state, _mid, reason, key = rows["gone@example.be"]
    assert state == "queued" and key is None and "opnieuw in de wachtrij" in (reason or "")
    state, _mid, reason, _key = rows["fresh@example.be"]
    assert state == "uncertain" and reason and reason.startswith("te recent om te beslissen")
    state, _mid, reason, _key = rows["broken@example.be"]
    assert state == "uncertain" and "mislukte 5 keer" in (reason or "")
    assert rows["fine@example.be"][0] == "queued"  # never uncertain: never looked up
    assert (report.checked, report.sent, report.requeued, report.uncertain) == (4, 1, 1, 2)
    assert len(sleeps) == 4 and refs["fine@example.be"] not in seen
    # Staying uncertain does not restart the settle time: a later reconcile decides it.
    clock.advance(minutes=2)
    again = reconcile(db, provider, campaign, clock, settle=SETTLE, sleep=sleeps.append)
    assert again.requeued == 1 and _by_email(db, campaign.id)["fresh@example.be"][0] == "queued"


def test_settle_zero_decides_at_once_and_a_done_campaign_is_paused(db, settings, clock) -> None:
    now = clock.now()
    add_subscriber(db, settings, "a@example.be", now=now)
    campaign = freeze(db, sample_issue(settings), "postmark", now)
    _make_uncertain(db, campaign.id, {"a@example.be": now})
    assert campaigns.finish_if_done(db, campaign.id, now)
    campaign = campaigns.get_campaign(db, campaign.issue_id)
    report = reconcile(db, _postmark({}, set(), []), campaign, clock, settle=timedelta(0))
    assert report.requeued == 1
    after = campaigns.get_campaign(db, campaign.issue_id)
    assert after.state == CampaignState.PAUSED.value and "digiweetjes send" in after.pause_reason


def test_a_refused_account_stops_and_leaves_everything_uncertain(db, settings, clock) -> None:
    now = clock.now()
    for i in range(3):
        add_subscriber(db, settings, f"lid{i}@example.be", now=now)
    campaign = freeze(db, sample_issue(settings), "postmark", now)
    _make_uncertain(db, campaign.id, {f"lid{i}@example.be": now - timedelta(hours=1)
                                      for i in range(3)})
    calls: list[int] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(401, json={"ErrorCode": 10, "Message": "bad token"})

    provider = PostmarkProvider(Secret(KEY), transport=httpx.MockTransport(refuse))
    report = reconcile(db, provider, campaign, clock, settle=SETTLE)
    assert report.stopped and "weigerde" in report.stopped and len(calls) == 1
    assert {state for state, *_ in _by_email(db, campaign.id).values()} == {"uncertain"}
    assert report.uncertain == 3 and KEY not in report.stopped


def test_a_provider_that_cannot_be_asked_keeps_them_uncertain_with_why(db, settings,
                                                                       clock) -> None:
    from tests.providers_support import FACTORIES

    now = clock.now()
    add_subscriber(db, settings, "a@example.be", now=now)
    campaign = freeze(db, sample_issue(settings), "brevo", now)
    _make_uncertain(db, campaign.id, {"a@example.be": now - timedelta(hours=1)})
    report = reconcile(db, FACTORIES["brevo"](base_url="https://example.invalid"), campaign,
                       clock, settle=SETTLE)
    [(state, _mid, reason, _key)] = _by_email(db, campaign.id).values()
    assert state == "uncertain" and "--include-uncertain" in (reason or "")
    assert report.uncertain == 1


def test_a_send_reconciles_what_its_own_timeouts_left_uncertain(db, settings) -> None:
    """A Postmark run whose requests time out after being accepted ends with none uncertain:
    it looks them up after its work, and nobody gets the mail twice."""
    clock = SystemClock()
    now = clock.now()
    for i in range(30):
        add_subscriber(db, settings, f"lid{i:02d}@example.be", now=now)
    compiled = sample_issue(settings)
    with FakeProviderServer() as fake:
        fake.state.set_faults({"script": ["ok", "timeout_after", "drop_after"],
                               "hang_s": 0.2})
        provider = PostmarkProvider(Secret(KEY), base_url=fake.url)
        campaign = freeze(db, compiled, provider.name, now)
        options = SendOptions(concurrency=1, batch_size=10, reconcile_settle_seconds=0)
        summary = SendEngine(db, provider, compiled, settings, clock, options).run(campaign)
        provider.close()
        recorded = fake.state.deliveries()
    assert summary.uncertain == 20 and summary.reconciled == (20, 0, 0)
    assert summary.counts["sent"] == 30 and summary.counts["uncertain"] == 0 and summary.done
    assert (recorded["total"], recorded["duplicate_count"]) == (30, 0)
    with db.session() as session:
        assert None not in session.scalars(select(Delivery.message_id)).all()
